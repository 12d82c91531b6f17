public import Foundation

/// Encodes `Encodable` values as compact JSON, writing the bytes while the values encode themselves.
///
/// `JSONEncoder` first builds a tree of every value, then sorts each object's keys and then writes the
/// tree out. This encoder writes each key and value the moment `encode(to:)` hands it over, so an
/// object's keys come out in the order they are encoded: declaration order for synthesized
/// conformances. Everything else matches `JSONEncoder` with `dateEncodingStrategy = .iso8601` and
/// `outputFormatting = .withoutEscapingSlashes`:
///
/// - dates are ISO 8601 in UTC with whole seconds (`2026-11-27T09:00:00Z`; fractions are dropped);
/// - `Data` is a base64 string, `URL` its absolute string, `UUID` its upper-case string and
///   `Decimal` a number (a NaN `Decimal` throws, where `JSONEncoder` writes an invalid `NaN`);
/// - whole floating-point numbers have no fraction (`3`, not `3.0`), and NaN or infinity throws;
/// - strings escape `"`, `\` and control characters only, so `/` and non-ASCII text stay as they are;
/// - `encodeIfPresent` leaves out a nil value, `encodeNil` and a nil optional write `null`.
///
/// A nested container must be filled before its parent encodes its next value, as synthesized
/// conformances do.
public struct StreamingJSONEncoder: Sendable {
    /// Creates an encoder.
    public init() {}

    /// The JSON of a value.
    /// - Throws: `EncodingError.invalidValue` for NaN or infinity, or when a value encodes nothing at all.
    public func encode(_ value: some Encodable) throws -> Data {
        try withJSON(of: value) { Data($0) }
    }

    /// Appends the JSON of a value to `bytes`.
    /// - Throws: `EncodingError.invalidValue` for NaN or infinity, or when a value encodes nothing at all;
    ///   `bytes` is then unchanged.
    public func encode(_ value: some Encodable, appendingTo bytes: inout [UInt8]) throws {
        try withJSON(of: value) { bytes.append(contentsOf: $0) }
    }

    /// Encodes a value and hands its JSON bytes to `body`, which must not keep them.
    /// - Throws: `EncodingError.invalidValue` for NaN or infinity, or when a value encodes nothing at all.
    public func withJSON<Result>(of value: some Encodable, _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        let writer = JSONWriter()
        try writer.encodeTopLevel(value)
        return try writer.withBytes(body)
    }
}

/// The bytes of one encoding and the containers still open in them.
///
/// It lives behind an `UnsafeMutablePointer` owned by its `JSONWriter`, so the encoder and its
/// containers write to it without a class's exclusivity checks on every byte.
struct JSONOutput {
    private(set) var bytes: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int
    /// The open containers and value positions, outermost first.
    var frames: [JSONFrame] = []
    /// The coding path of the innermost open frame.
    var path: [any CodingKey] = []
    /// The frame of the value the shared encoder is encoding.
    var slot = 0
    /// The first misuse found where nothing can throw, thrown when the encoding ends.
    var failure: EncodingError?
    private var nextID: UInt32 = 0

    /// Bytes with room for `capacity`, and room for `frames` open containers (none for `JSONComposer`).
    init(capacity: Int, frames: Int = 16) {
        self.capacity = capacity
        bytes = .allocate(capacity: capacity)
        if frames > 0 { self.frames.reserveCapacity(frames) }
    }

    /// Frees the bytes; the output must not be used afterwards.
    func deallocate() {
        bytes.deallocate()
    }

    // MARK: Frames

    /// Opens a frame at the end of the stack, with `key` added to the coding path.
    /// - Returns: its index.
    mutating func push(_ kind: JSONFrame.Kind, key: (any CodingKey)?) -> Int {
        let start = path.count
        if let key { path.append(key) }
        frames.append(JSONFrame(kind: kind, id: nextID, pathStart: Int32(start), pathEnd: Int32(path.count)))
        nextID &+= 1
        return frames.count &- 1
    }

    /// Whether the frame a container or encoder was made for is still open.
    @inline(__always)
    func isOpen(_ index: Int, _ id: UInt32) -> Bool {
        index < frames.count && frames[index].id == id
    }

    /// Closes the frame at `index` and every frame inside it, writing their closing brackets.
    mutating func close(from index: Int) {
        while frames.count > index {
            let frame = frames.removeLast()
            switch frame.kind {
            case .pending: append("{}")
            case .single: break
            case .object: append(UInt8(ascii: "}"))
            case .array: append(UInt8(ascii: "]"))
            }
            path.removeLast(path.count &- Int(frame.pathStart))
        }
    }

    /// The coding path of a frame.
    func codingPath(of index: Int) -> [any CodingKey] {
        guard index < frames.count else { return path }
        return Array(path.prefix(Int(frames[index].pathEnd)))
    }

    /// Records a misuse that is thrown when the encoding ends.
    mutating func fail(_ description: String) {
        if failure == nil {
            failure = EncodingError.invalidValue(
                description, EncodingError.Context(codingPath: path, debugDescription: description))
        }
    }

    /// Starts the next member of an open object: closes the containers nested in it and writes
    /// the separator and the key.
    /// - Returns: false when the object is no longer open.
    mutating func beginMember(_ index: Int, _ id: UInt32, key: String) -> Bool {
        guard isOpen(index, id) else { return false }
        if frames.count != index &+ 1 { close(from: index &+ 1) }
        if bytes[count &- 1] != UInt8(ascii: "{") { append(UInt8(ascii: ",")) }
        writeString(key)
        append(UInt8(ascii: ":"))
        return true
    }

    /// Starts the next element of an open array: closes the containers nested in it and writes
    /// the separator.
    /// - Returns: the element's index, or nil when the array is no longer open.
    mutating func beginElement(_ index: Int, _ id: UInt32) -> Int? {
        guard isOpen(index, id) else { return nil }
        if frames.count != index &+ 1 { close(from: index &+ 1) }
        let element = frames[index].count
        if element > 0 { append(UInt8(ascii: ",")) }
        frames[index].count = element &+ 1
        return element
    }

    // MARK: Bytes

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if capacity &- count < extra { grow(extra) }
    }

    @inline(never)
    private mutating func grow(_ extra: Int) {
        var newCapacity = capacity * 2
        while newCapacity - count < extra { newCapacity *= 2 }
        let newBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBytes.initialize(from: bytes, count: count)
        bytes.deallocate()
        bytes = newBytes
        capacity = newCapacity
    }

    /// Writes a byte whose room is already reserved.
    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        bytes[count] = byte
        count &+= 1
    }

    /// Writes two decimal digits whose room is already reserved.
    @inline(__always)
    private mutating func putPair(_ value: Int) {
        let pairs = digitPairs.utf8Start
        bytes[count] = pairs[value &* 2]
        bytes[count &+ 1] = pairs[value &* 2 &+ 1]
        count &+= 2
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        put(byte)
    }

    mutating func append(_ source: UnsafeBufferPointer<UInt8>) {
        guard let base = source.baseAddress else { return }
        reserve(source.count)
        (bytes + count).initialize(from: base, count: source.count)
        count &+= source.count
    }

    mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { append($0) }
    }

    /// Writes text that needs no escaping, without quotes (numbers).
    private mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    // MARK: Scalars

    mutating func writeBool(_ value: Bool) {
        append(value ? "true" : "false")
    }

    mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        guard T.bitWidth <= 64 else {
            appendText(value.description)
            return
        }
        reserve(20)
        if value < 0 { put(UInt8(ascii: "-")) }
        writeDigits(UInt64(truncatingIfNeeded: value.magnitude))
    }

    /// Writes the decimal digits of a number; 20 bytes must be reserved.
    private mutating func writeDigits(_ value: UInt64) {
        var digits = 1
        var bound: UInt64 = 10
        while digits < 20 && value >= bound {
            digits &+= 1
            bound &*= 10
        }
        let pairs = digitPairs.utf8Start
        var end = count &+ digits
        var rest = value
        while rest >= 100 {
            let quotient = rest / 100
            let pair = Int(truncatingIfNeeded: rest &- quotient &* 100) &* 2
            end &-= 2
            bytes[end] = pairs[pair]
            bytes[end &+ 1] = pairs[pair &+ 1]
            rest = quotient
        }
        if rest >= 10 {
            let pair = Int(truncatingIfNeeded: rest) &* 2
            bytes[end &- 2] = pairs[pair]
            bytes[end &- 1] = pairs[pair &+ 1]
        } else {
            bytes[end &- 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest)
        }
        count &+= digits
    }

    /// Writes a number as `JSONEncoder` does: Swift's shortest round-trip text without a `.0` suffix.
    /// - Returns: false, writing nothing, for NaN and infinity.
    mutating func writeDouble(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        // Below 2^53 `description` writes a whole number as its digits and ".0".
        if value.magnitude < 9_007_199_254_740_992, value.rounded(.towardZero) == value {
            if value == 0 {
                append(value.sign == .minus ? "-0" : "0")
            } else {
                writeInteger(Int64(value))
            }
            return true
        }
        appendNumberDescription(value.description)
        return true
    }

    /// Writes a number as `JSONEncoder` does; see `writeDouble`.
    /// - Returns: false, writing nothing, for NaN and infinity.
    mutating func writeFloat(_ value: Float) -> Bool {
        guard value.isFinite else { return false }
        appendNumberDescription(value.description)
        return true
    }

    private mutating func appendNumberDescription(_ description: String) {
        var description = description
        description.withUTF8 { text in
            var length = text.count
            if length > 2, text[length &- 2] == UInt8(ascii: "."), text[length &- 1] == UInt8(ascii: "0") {
                length &-= 2
            }
            append(UnsafeBufferPointer(rebasing: text[..<length]))
        }
    }

    /// Writes a decimal as a number.
    /// - Returns: false, writing nothing, for NaN.
    mutating func writeDecimal(_ value: Decimal) -> Bool {
        guard !value.isNaN else { return false }
        appendText(value.description)
        return true
    }

    /// Writes a date as `JSONEncoder`'s `.iso8601` strategy does: UTC, whole seconds rounded down.
    ///
    /// Like Foundation it uses the Julian calendar before 1582-10-15, numbers years astronomically
    /// (1 BC is `0000`), and clamps dates to the range from -4712-01-01T12:00:00Z to
    /// 506713-02-07T00:00:00Z.
    mutating func writeDate(_ date: Date) {
        var interval = date.timeIntervalSince1970
        if !(interval >= -210_866_760_000) {
            interval = -210_866_760_000
        } else if interval > 15_928_153_804_800 {
            interval = 15_928_153_804_800
        }
        let seconds = Int64(interval.rounded(.down))
        var days = seconds / 86_400
        var secondOfDay = Int(seconds - days * 86_400)
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = days >= -141_427 ? Self.gregorianDate(days) : Self.julianDate(days)
        reserve(32)
        put(UInt8(ascii: "\""))
        if year < 0 { put(UInt8(ascii: "-")) }
        let yearDigits = year.magnitude
        if yearDigits < 10_000 {
            putPair(Int(yearDigits / 100))
            putPair(Int(yearDigits % 100))
        } else {
            writeDigits(yearDigits)
        }
        put(UInt8(ascii: "-"))
        putPair(month)
        put(UInt8(ascii: "-"))
        putPair(day)
        put(UInt8(ascii: "T"))
        putPair(secondOfDay / 3600)
        put(UInt8(ascii: ":"))
        putPair(secondOfDay / 60 % 60)
        put(UInt8(ascii: ":"))
        putPair(secondOfDay % 60)
        put(UInt8(ascii: "Z"))
        put(UInt8(ascii: "\""))
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's civil_from_days).
    private static func gregorianDate(_ days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        return date(year: yearOfEra + era * 400, marchBasedDayOfYear: dayOfYear)
    }

    /// The Julian date of a day counted from 1970-01-01, with astronomical year numbers.
    private static func julianDate(_ days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + 719_470
        let era = (shifted >= 0 ? shifted : shifted - 1460) / 1461
        let dayOfEra = shifted - era * 1461
        let yearOfEra = (dayOfEra - dayOfEra / 1460) / 365
        return date(year: yearOfEra + era * 4, marchBasedDayOfYear: dayOfEra - 365 * yearOfEra)
    }

    /// The date of a day in a year that starts on 1 March.
    private static func date(year: Int64, marchBasedDayOfYear dayOfYear: Int64) -> (year: Int64, month: Int, day: Int) {
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        let month = Int(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9)
        return (month <= 2 ? year + 1 : year, month, day)
    }

    // MARK: Strings

    /// Writes a string in quotes, escaping `"`, `\` and control characters.
    mutating func writeString(_ string: String) {
        if string.utf8.withContiguousStorageIfAvailable({ writeQuoted($0) }) == nil {
            var string = string
            string.withUTF8 { writeQuoted($0) }
        }
    }

    /// Writes UTF-8 text in quotes, copying the runs that need no escaping in bulk.
    mutating func writeQuoted(_ text: UnsafeBufferPointer<UInt8>) {
        let length = text.count
        reserve(length &+ 2)
        put(UInt8(ascii: "\""))
        guard let source = text.baseAddress else {
            put(UInt8(ascii: "\""))
            return
        }
        var index = 0
        var runStart = 0
        while index < length {
            if length &- index >= 8,
                !Self.needsEscaping(UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self))
            {
                index &+= 8
                continue
            }
            let stop = Swift.min(index &+ 8, length)
            while index < stop {
                let byte = source[index]
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    // The run, at most six bytes of escape, the rest and the closing quote.
                    reserve(length &- runStart &+ 7)
                    (bytes + count).initialize(from: source + runStart, count: index &- runStart)
                    count &+= index &- runStart
                    putEscape(byte)
                    runStart = index &+ 1
                }
                index &+= 1
            }
        }
        (bytes + count).initialize(from: source + runStart, count: length &- runStart)
        count &+= length &- runStart
        put(UInt8(ascii: "\""))
    }

    /// Whether any of eight bytes is a control character, `"` or `\`.
    @inline(__always)
    private static func needsEscaping(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word & high
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        return (control | ((quote &- ones) & ~quote & high) | ((backslash &- ones) & ~backslash & high)) != 0
    }

    /// Writes the escape of a byte, as `JSONEncoder` does (`\u001f` in lower-case hex); room is reserved.
    @inline(__always)
    private mutating func putEscape(_ byte: UInt8) {
        put(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): put(byte)
        case 0x08: put(UInt8(ascii: "b"))
        case 0x09: put(UInt8(ascii: "t"))
        case 0x0A: put(UInt8(ascii: "n"))
        case 0x0C: put(UInt8(ascii: "f"))
        case 0x0D: put(UInt8(ascii: "r"))
        default:
            let hex = lowercaseHexDigits.utf8Start
            put(UInt8(ascii: "u"))
            put(UInt8(ascii: "0"))
            put(UInt8(ascii: "0"))
            put(hex[Int(byte >> 4)])
            put(hex[Int(byte & 0x0F)])
        }
    }
}

/// "00" to "99", two bytes each.
private var digitPairs: StaticString {
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
}

private var lowercaseHexDigits: StaticString { "0123456789abcdef" }

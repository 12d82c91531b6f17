import Foundation

/// An open JSON container, or the position of a value that has not written anything yet.
struct JSONFrame {
    enum Kind: UInt8 {
        /// A value position nothing has been written to: closing it writes `{}`, as `JSONEncoder`
        /// encodes a value that asks for no container.
        case pending
        /// A value position holding one value written through a single value container.
        case single
        case object
        case array
    }

    var kind: Kind
    /// Tells whether a container or encoder made for this frame is still writing to it.
    var id: UInt32
    /// The number of elements of an array.
    var count = 0
    /// The length of the coding path outside this frame.
    var pathStart: Int32
    /// The length of this frame's coding path.
    var pathEnd: Int32
}

/// The `Encoder` of one encoding, handed to every nested value's `encode(to:)` in turn.
///
/// Values encode strictly nested, so one instance serves every depth: `slot` names the frame of
/// the value encoding now, and is restored when a nested value is done.
final class JSONWriter: Encoder {
    let out: UnsafeMutablePointer<JSONOutput>

    init(capacity: Int = 4096) {
        out = .allocate(capacity: 1)
        out.initialize(to: JSONOutput(capacity: capacity))
    }

    deinit {
        out.pointee.deallocate()
        out.deinitialize(count: 1)
        out.deallocate()
    }

    var codingPath: [any CodingKey] { out.pointee.codingPath(of: out.pointee.slot) }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let slot = out.pointee.slot
        return keyedContainer(at: slot, id: out.pointee.frames[slot].id)
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let slot = out.pointee.slot
        return unkeyedContainer(at: slot, id: out.pointee.frames[slot].id)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        let slot = out.pointee.slot
        return JSONSingleValueContainer(writer: self, index: slot, id: out.pointee.frames[slot].id)
    }

    /// The bytes written.
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: out.pointee.bytes, count: out.pointee.count))
    }

    /// Encodes the value of a whole document.
    /// - Throws: `EncodingError.invalidValue` for NaN, infinity, a value that encodes nothing, or a
    ///   misused container.
    func encodeTopLevel<T: Encodable>(_ value: T) throws {
        let out = out
        if try !writeScalar(value, path: []) {
            let index = out.pointee.push(.pending, key: nil)
            out.pointee.slot = index
            try value.encode(to: self)
            if out.pointee.frames[index].kind == .pending {
                throw EncodingError.invalidValue(
                    value,
                    EncodingError.Context(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
            }
            out.pointee.close(from: index)
        }
        if let failure = out.pointee.failure { throw failure }
    }

    /// Encodes the value of a member or element, after its key or separator.
    func encodeValue<T: Encodable, Key: CodingKey>(_ value: T, key: Key) throws {
        if try writeScalar(value, path: path(key)) { return }
        try encodeNested(value, key: key)
    }

    /// Encodes the value of a single value container.
    func encodeValue<T: Encodable>(_ value: T) throws {
        if try writeScalar(value, path: out.pointee.path) { return }
        try encodeNested(value, key: nil)
    }

    /// Encodes a value through its `encode(to:)`, in a frame of its own.
    private func encodeNested<T: Encodable>(_ value: T, key: (any CodingKey)?) throws {
        let out = out
        let parentSlot = out.pointee.slot
        let index = out.pointee.push(.pending, key: key)
        out.pointee.slot = index
        try value.encode(to: self)
        out.pointee.close(from: index)
        out.pointee.slot = parentSlot
    }

    /// Writes the values JSON has a scalar for, and the Foundation types `JSONEncoder` writes as
    /// scalars, without calling their `encode(to:)`.
    /// - Parameters:
    ///   - path: the value's coding path, for errors.
    /// - Returns: false when the value is of another type.
    private func writeScalar<T: Encodable>(_ value: T, path: @autoclosure () -> [any CodingKey]) throws -> Bool {
        let out = out
        if T.self == String.self {
            out.pointee.writeString(unsafeBitCast(value, to: String.self))
        } else if T.self == Int.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: Int.self))
        } else if T.self == Bool.self {
            out.pointee.writeBool(unsafeBitCast(value, to: Bool.self))
        } else if T.self == Date.self {
            out.pointee.writeDate(unsafeBitCast(value, to: Date.self))
        } else if T.self == Double.self {
            let double = unsafeBitCast(value, to: Double.self)
            guard out.pointee.writeDouble(double) else { throw Self.invalidFloat(double, path: path()) }
        } else if T.self == Int64.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: Int64.self))
        } else if T.self == Int32.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: Int32.self))
        } else if T.self == UInt64.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: UInt64.self))
        } else if T.self == UInt.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: UInt.self))
        } else if T.self == UInt32.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: UInt32.self))
        } else if T.self == Int16.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: Int16.self))
        } else if T.self == UInt16.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: UInt16.self))
        } else if T.self == Int8.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: Int8.self))
        } else if T.self == UInt8.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: UInt8.self))
        } else if T.self == Float.self {
            let float = unsafeBitCast(value, to: Float.self)
            guard out.pointee.writeFloat(float) else { throw Self.invalidFloat(float, path: path()) }
        } else if T.self == UUID.self {
            out.pointee.writeString(unsafeBitCast(value, to: UUID.self).uuidString)
        } else if T.self == URL.self {
            out.pointee.writeString(unsafeBitCast(value, to: URL.self).absoluteString)
        } else if T.self == Data.self {
            out.pointee.writeString(unsafeBitCast(value, to: Data.self).base64EncodedString())
        } else if T.self == Decimal.self {
            let decimal = unsafeBitCast(value, to: Decimal.self)
            guard out.pointee.writeDecimal(decimal) else {
                throw EncodingError.invalidValue(
                    decimal, EncodingError.Context(codingPath: path(), debugDescription: "Unable to encode Decimal.nan in JSON."))
            }
        } else if T.self == Int128.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: Int128.self))
        } else if T.self == UInt128.self {
            out.pointee.writeInteger(unsafeBitCast(value, to: UInt128.self))
        } else {
            return false
        }
        return true
    }

    /// The current coding path and `key`.
    func path(_ key: any CodingKey) -> [any CodingKey] {
        out.pointee.path + [key]
    }

    /// The error `JSONEncoder` throws for NaN and infinity.
    static func invalidFloat<F: FloatingPoint>(_ value: F, path: [any CodingKey]) -> EncodingError {
        EncodingError.invalidValue(
            value,
            EncodingError.Context(codingPath: path, debugDescription: "Unable to encode \(F.self).\(value) directly in JSON."))
    }

    /// The error for a container written to after its parent moved on to another value.
    func closedContainer(key: (any CodingKey)?) -> EncodingError {
        let path = key.map { self.path($0) } ?? out.pointee.path
        return EncodingError.invalidValue(
            key?.stringValue ?? "",
            EncodingError.Context(
                codingPath: path,
                debugDescription: "A nested container was written to after its parent encoded another value."))
    }

    /// A keyed container writing to the frame at `index`, opening the object if it is a pending value.
    func keyedContainer<Key: CodingKey>(at index: Int, id: UInt32) -> KeyedEncodingContainer<Key> {
        let out = out
        if !out.pointee.isOpen(index, id) {
            out.pointee.fail("An encoder was asked for a container after its parent encoded another value.")
        } else {
            switch out.pointee.frames[index].kind {
            case .pending:
                out.pointee.append(UInt8(ascii: "{"))
                out.pointee.frames[index].kind = .object
            case .object:
                break
            case .single, .array:
                out.pointee.fail("A keyed container was requested for a value that already encoded something else.")
            }
        }
        return KeyedEncodingContainer(JSONKeyedContainer(writer: self, index: index, id: id))
    }

    /// An unkeyed container writing to the frame at `index`, opening the array if it is a pending value.
    func unkeyedContainer(at index: Int, id: UInt32) -> JSONUnkeyedContainer {
        let out = out
        if !out.pointee.isOpen(index, id) {
            out.pointee.fail("An encoder was asked for a container after its parent encoded another value.")
        } else {
            switch out.pointee.frames[index].kind {
            case .pending:
                out.pointee.append(UInt8(ascii: "["))
                out.pointee.frames[index].kind = .array
            case .array:
                break
            case .single, .object:
                out.pointee.fail("An unkeyed container was requested for a value that already encoded something else.")
            }
        }
        return JSONUnkeyedContainer(writer: self, index: index, id: id)
    }

    /// Opens a container nested at the current position (after its key or separator).
    func nested(_ kind: JSONFrame.Kind, key: any CodingKey) -> (index: Int, id: UInt32) {
        let out = out
        switch kind {
        case .object: out.pointee.append(UInt8(ascii: "{"))
        case .array: out.pointee.append(UInt8(ascii: "["))
        case .pending, .single: break
        }
        let index = out.pointee.push(kind, key: key)
        return (index, out.pointee.frames[index].id)
    }
}

/// The encoder `superEncoder()` returns: it writes to one value position, which stays open until its
/// parent container encodes its next value.
final class JSONSlotEncoder: Encoder {
    let writer: JSONWriter
    let index: Int
    let id: UInt32

    init(writer: JSONWriter, index: Int, id: UInt32) {
        self.writer = writer
        self.index = index
        self.id = id
    }

    var codingPath: [any CodingKey] { writer.out.pointee.codingPath(of: index) }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        writer.keyedContainer(at: index, id: id)
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        writer.unkeyedContainer(at: index, id: id)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueContainer(writer: writer, index: index, id: id)
    }
}

/// Writes the members of an object in the order they are encoded.
struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONWriter
    let index: Int
    let id: UInt32

    var codingPath: [any CodingKey] { writer.out.pointee.codingPath(of: index) }

    /// Writes the separator and the key of the next member.
    @inline(__always)
    private func member(_ key: Key) throws -> UnsafeMutablePointer<JSONOutput> {
        let out = writer.out
        guard out.pointee.beginMember(index, id, key: key.stringValue) else { throw writer.closedContainer(key: key) }
        return out
    }

    mutating func encodeNil(forKey key: Key) throws { try member(key).pointee.append("null") }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try member(key).pointee.writeBool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { try member(key).pointee.writeString(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: Int128, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try member(key).pointee.writeInteger(value) }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        guard try member(key).pointee.writeDouble(value) else { throw JSONWriter.invalidFloat(value, path: writer.path(key)) }
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        guard try member(key).pointee.writeFloat(value) else { throw JSONWriter.invalidFloat(value, path: writer.path(key)) }
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        _ = try member(key)
        try writer.encodeValue(value, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let frame = nestedFrame(.object, key: key)
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(writer: writer, index: frame.index, id: frame.id))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let frame = nestedFrame(.array, key: key)
        return JSONUnkeyedContainer(writer: writer, index: frame.index, id: frame.id)
    }

    mutating func superEncoder() -> any Encoder {
        let frame = nestedFrame(.pending, key: JSONSuperKey())
        return JSONSlotEncoder(writer: writer, index: frame.index, id: frame.id)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let frame = nestedFrame(.pending, key: key)
        return JSONSlotEncoder(writer: writer, index: frame.index, id: frame.id)
    }

    private func nestedFrame(_ kind: JSONFrame.Kind, key: some CodingKey) -> (index: Int, id: UInt32) {
        if !writer.out.pointee.beginMember(index, id, key: key.stringValue) {
            writer.out.pointee.fail("A nested container was written to after its parent encoded another value.")
        }
        return writer.nested(kind, key: key)
    }
}

/// Writes the elements of an array.
struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: JSONWriter
    let index: Int
    let id: UInt32

    var codingPath: [any CodingKey] { writer.out.pointee.codingPath(of: index) }

    var count: Int {
        let out = writer.out
        return out.pointee.isOpen(index, id) ? out.pointee.frames[index].count : 0
    }

    /// Writes the separator before the next element.
    @inline(__always)
    private func element() throws -> UnsafeMutablePointer<JSONOutput> {
        let out = writer.out
        guard out.pointee.beginElement(index, id) != nil else { throw writer.closedContainer(key: nil) }
        return out
    }

    mutating func encodeNil() throws { try element().pointee.append("null") }
    mutating func encode(_ value: Bool) throws { try element().pointee.writeBool(value) }
    mutating func encode(_ value: String) throws { try element().pointee.writeString(value) }
    mutating func encode(_ value: Int) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: Int128) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try element().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt128) throws { try element().pointee.writeInteger(value) }

    mutating func encode(_ value: Double) throws {
        guard try element().pointee.writeDouble(value) else {
            throw JSONWriter.invalidFloat(value, path: writer.path(JSONIndexKey(count - 1)))
        }
    }

    mutating func encode(_ value: Float) throws {
        guard try element().pointee.writeFloat(value) else {
            throw JSONWriter.invalidFloat(value, path: writer.path(JSONIndexKey(count - 1)))
        }
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        guard let element = writer.out.pointee.beginElement(index, id) else {
            throw writer.closedContainer(key: nil)
        }
        try writer.encodeValue(value, key: JSONIndexKey(element))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let frame = nestedFrame(.object)
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(writer: writer, index: frame.index, id: frame.id))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let frame = nestedFrame(.array)
        return JSONUnkeyedContainer(writer: writer, index: frame.index, id: frame.id)
    }

    mutating func superEncoder() -> any Encoder {
        let frame = nestedFrame(.pending)
        return JSONSlotEncoder(writer: writer, index: frame.index, id: frame.id)
    }

    private func nestedFrame(_ kind: JSONFrame.Kind) -> (index: Int, id: UInt32) {
        guard let element = writer.out.pointee.beginElement(index, id) else {
            writer.out.pointee.fail("A nested container was written to after its parent encoded another value.")
            return writer.nested(kind, key: JSONIndexKey(0))
        }
        return writer.nested(kind, key: JSONIndexKey(element))
    }
}

/// Writes the one value of a value position.
struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let writer: JSONWriter
    let index: Int
    let id: UInt32

    var codingPath: [any CodingKey] { writer.out.pointee.codingPath(of: index) }

    /// Marks the position as written.
    /// - Throws: when it already holds a value or is no longer open.
    @inline(__always)
    private func claim() throws -> UnsafeMutablePointer<JSONOutput> {
        let out = writer.out
        guard out.pointee.isOpen(index, id) else { throw writer.closedContainer(key: nil) }
        guard out.pointee.frames[index].kind == .pending else {
            throw EncodingError.invalidValue(
                "",
                EncodingError.Context(codingPath: codingPath, debugDescription: "A single value container can hold only one value."))
        }
        out.pointee.frames[index].kind = .single
        return out
    }

    mutating func encodeNil() throws { try claim().pointee.append("null") }
    mutating func encode(_ value: Bool) throws { try claim().pointee.writeBool(value) }
    mutating func encode(_ value: String) throws { try claim().pointee.writeString(value) }
    mutating func encode(_ value: Int) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: Int128) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try claim().pointee.writeInteger(value) }
    mutating func encode(_ value: UInt128) throws { try claim().pointee.writeInteger(value) }

    mutating func encode(_ value: Double) throws {
        guard try claim().pointee.writeDouble(value) else { throw JSONWriter.invalidFloat(value, path: codingPath) }
    }

    mutating func encode(_ value: Float) throws {
        guard try claim().pointee.writeFloat(value) else { throw JSONWriter.invalidFloat(value, path: codingPath) }
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        _ = try claim()
        try writer.encodeValue(value)
    }
}

/// The key of an array element, named as `JSONEncoder` names it.
struct JSONIndexKey: CodingKey {
    let index: Int

    init(_ index: Int) {
        self.index = index
    }

    init?(intValue: Int) {
        self.index = intValue
    }

    init?(stringValue: String) {
        return nil
    }

    var intValue: Int? { index }
    var stringValue: String { "Index \(index)" }
}

/// The key `superEncoder()` writes under.
struct JSONSuperKey: CodingKey {
    init() {}

    init?(intValue: Int) {
        return nil
    }

    init?(stringValue: String) {
        guard stringValue == "super" else { return nil }
    }

    var intValue: Int? { nil }
    var stringValue: String { "super" }
}

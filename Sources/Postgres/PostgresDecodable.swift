/// A Swift value that can be read from a result column in PostgreSQL's binary format.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value.
    /// - Parameters:
    ///   - bytes: the column's binary value.
    ///   - type: the column's PostgreSQL type.
    /// - Throws: `PostgresDecodingFailure` when the type does not fit or the bytes are malformed.
    static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self

    /// The value for SQL NULL. Throws unless the type is optional.
    static func decodeNull() throws(PostgresDecodingFailure) -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws(PostgresDecodingFailure) -> Self {
        throw PostgresDecodingFailure("is NULL")
    }
}

/// Why one value could not be decoded; the row adds the column and types.
public struct PostgresDecodingFailure: Error, Sendable {
    /// The reason, phrased to follow a column name ("is NULL", "has type text").
    public var reason: String
    /// Creates a failure.
    public init(_ reason: String) { self.reason = reason }

    static func unsupported(_ type: PostgresDataType) -> PostgresDecodingFailure {
        PostgresDecodingFailure("has type \(type)")
    }

    static func malformed(_ type: PostgresDataType, length: Int) -> PostgresDecodingFailure {
        PostgresDecodingFailure("holds \(length) bytes, which is not a valid \(type) value")
    }
}

/// A column could not be decoded into the Swift type asked for.
public struct PostgresDecodingError: Error, Sendable, CustomStringConvertible {
    /// The column's name.
    public var column: String
    /// The column's position, from 0.
    public var columnIndex: Int
    /// The Swift type asked for.
    public var expectedType: String
    /// The column's PostgreSQL type.
    public var postgresType: PostgresDataType
    /// Why it failed.
    public var reason: String

    public var description: String {
        "cannot decode column \"\(column)\" (#\(columnIndex), \(postgresType)) as \(expectedType): it \(reason)"
    }
}

extension UnsafeRawBufferPointer {
    @inlinable
    func readBigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int = 0) -> T {
        var value: T = 0
        Swift.withUnsafeMutableBytes(of: &value) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: self[offset..<offset + MemoryLayout<T>.size]))
        }
        return T(bigEndian: value)
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try Wrapped.decode(from: bytes, type: type)
    }
    public static func decodeNull() throws(PostgresDecodingFailure) -> Self { nil }
}

/// Reads any PostgreSQL integer type (and integral numerics) as a 64-bit integer.
func decodeInteger(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int64 {
    switch (type, bytes.count) {
    case (.int8, 8): return bytes.readBigEndian(Int64.self)
    case (.int4, 4): return Int64(bytes.readBigEndian(Int32.self))
    case (.int2, 2): return Int64(bytes.readBigEndian(Int16.self))
    case (.oidType, 4): return Int64(bytes.readBigEndian(UInt32.self))
    case (.numeric, _):
        let text = try PostgresNumeric.string(from: bytes)
        guard let value = Int64(text) else { throw PostgresDecodingFailure("holds \(text), which is not a 64-bit integer") }
        return value
    case (.int8, _), (.int4, _), (.int2, _), (.oidType, _): throw .malformed(type, length: bytes.count)
    default: throw .unsupported(type)
    }
}

func narrow<T: FixedWidthInteger>(_ value: Int64, to: T.Type) throws(PostgresDecodingFailure) -> T {
    guard let narrowed = T(exactly: value) else {
        throw PostgresDecodingFailure("holds \(value), which does not fit in \(T.self)")
    }
    return narrowed
}

extension Int: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int {
        try narrow(decodeInteger(from: bytes, type: type), to: Int.self)
    }
}

extension Int64: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int64 {
        try decodeInteger(from: bytes, type: type)
    }
}

extension Int32: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int32 {
        try narrow(decodeInteger(from: bytes, type: type), to: Int32.self)
    }
}

extension Int16: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int16 {
        try narrow(decodeInteger(from: bytes, type: type), to: Int16.self)
    }
}

extension UInt32: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> UInt32 {
        try narrow(decodeInteger(from: bytes, type: type), to: UInt32.self)
    }
}

extension Bool: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Bool {
        guard type == .bool else { throw .unsupported(type) }
        guard bytes.count == 1 else { throw .malformed(type, length: bytes.count) }
        return bytes[0] != 0
    }
}

extension Double: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Double {
        switch (type, bytes.count) {
        case (.float8, 8): return Double(bitPattern: bytes.readBigEndian(UInt64.self))
        case (.float4, 4): return Double(Float(bitPattern: bytes.readBigEndian(UInt32.self)))
        case (.int8, _), (.int4, _), (.int2, _): return Double(try decodeInteger(from: bytes, type: type))
        case (.numeric, _):
            let text = try PostgresNumeric.string(from: bytes)
            guard let value = Double(text) else { throw PostgresDecodingFailure("holds \(text), which is not a number") }
            return value
        case (.float8, _), (.float4, _): throw .malformed(type, length: bytes.count)
        default: throw .unsupported(type)
        }
    }
}

extension String: PostgresDecodable {
    /// Text-like types, enums and domains over text decode as their text; `jsonb` as its JSON text;
    /// `numeric` as its decimal digits.
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> String {
        switch type {
        case .jsonb:
            guard bytes.first == 1 else { throw .malformed(type, length: bytes.count) }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[1...]), as: UTF8.self)
        case .numeric:
            return try PostgresNumeric.string(from: bytes)
        case .bool, .bytea, .int8, .int2, .int4, .oidType, .float4, .float8, .date, .timestamp, .timestamptz,
            .interval, .uuid:
            throw .unsupported(type)
        default:
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Decodes a one-dimensional array (or an empty one); NULL elements need an optional `Element`.
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> [Element] {
        guard bytes.count >= 12 else { throw .unsupported(type) }
        let dimensions = bytes.readBigEndian(Int32.self)
        let elementType = PostgresDataType(bytes.readBigEndian(UInt32.self, at: 8))
        if dimensions == 0 { return [] }
        guard dimensions == 1, bytes.count >= 20 else {
            throw PostgresDecodingFailure("is an array of \(dimensions) dimensions; only one is supported")
        }
        let count = Int(bytes.readBigEndian(Int32.self, at: 12))
        var offset = 20
        var result: [Element] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            guard offset + 4 <= bytes.count else { throw .malformed(type, length: bytes.count) }
            let length = Int(bytes.readBigEndian(Int32.self, at: offset))
            offset += 4
            if length < 0 {
                result.append(try Element.decodeNull())
                continue
            }
            guard offset + length <= bytes.count else { throw .malformed(type, length: bytes.count) }
            let element = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
            result.append(try Element.decode(from: element, type: elementType))
            offset += length
        }
        return result
    }
}

/// Converts PostgreSQL's binary `numeric` to its decimal text.
enum PostgresNumeric {
    static func string(from bytes: UnsafeRawBufferPointer) throws(PostgresDecodingFailure) -> String {
        guard bytes.count >= 8 else { throw .malformed(.numeric, length: bytes.count) }
        let digitCount = Int(bytes.readBigEndian(Int16.self, at: 0))
        let weight = Int(bytes.readBigEndian(Int16.self, at: 2))
        let sign = bytes.readBigEndian(UInt16.self, at: 4)
        let scale = Int(bytes.readBigEndian(Int16.self, at: 6))
        guard bytes.count == 8 + 2 * digitCount else { throw .malformed(.numeric, length: bytes.count) }
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        default: break
        }
        func digit(_ index: Int) -> Int {
            index >= 0 && index < digitCount ? Int(bytes.readBigEndian(Int16.self, at: 8 + 2 * index)) : 0
        }
        var integer = ""
        if weight < 0 {
            integer = "0"
        } else {
            for index in 0...weight {
                let group = String(digit(index))
                integer += index == 0 ? group : String(repeating: "0", count: max(0, 4 - group.count)) + group
            }
        }
        var fraction = ""
        var index = weight + 1
        while fraction.count < scale {
            let group = String(digit(index))
            fraction += String(repeating: "0", count: max(0, 4 - group.count)) + group
            index += 1
        }
        fraction = String(fraction.prefix(scale))
        let body = scale > 0 ? integer + "." + fraction : integer
        return sign == 0x4000 ? "-" + body : body
    }
}

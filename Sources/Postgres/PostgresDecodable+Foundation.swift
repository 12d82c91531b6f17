public import Foundation

extension Date: PostgresDecodable {
    /// Decodes `timestamptz`, `timestamp` (taken as UTC) and `date` (midnight UTC); infinities become
    /// `distantFuture` and `distantPast`.
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Date {
        switch (type, bytes.count) {
        case (.timestamptz, 8), (.timestamp, 8):
            let microseconds = bytes.readBigEndian(Int64.self)
            if microseconds == .max { return .distantFuture }
            if microseconds == .min { return .distantPast }
            return Date(timeIntervalSinceReferenceDate: Double(microseconds) / 1_000_000 - postgresEpochOffset)
        case (.date, 4):
            let days = bytes.readBigEndian(Int32.self)
            if days == .max { return .distantFuture }
            if days == .min { return .distantPast }
            return Date(timeIntervalSinceReferenceDate: Double(days) * 86_400 - postgresEpochOffset)
        case (.timestamptz, _), (.timestamp, _), (.date, _): throw .malformed(type, length: bytes.count)
        default: throw .unsupported(type)
        }
    }
}

extension UUID: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> UUID {
        guard type == .uuid else { throw .unsupported(type) }
        guard bytes.count == 16 else { throw .malformed(type, length: bytes.count) }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        Swift.withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: bytes) }
        return UUID(uuid: uuid)
    }
}

extension Data: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Data {
        guard type == .bytea else { throw .unsupported(type) }
        return Data(bytes)
    }
}

extension PostgresJSON: PostgresDecodable {
    /// Decodes `jsonb` or `json` with the JSON decoder (ISO 8601 dates).
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> PostgresJSON<Value> {
        let json: UnsafeRawBufferPointer
        switch type {
        case .jsonb:
            guard bytes.first == 1 else { throw .malformed(type, length: bytes.count) }
            json = UnsafeRawBufferPointer(rebasing: bytes[1...])
        case .json, .text:
            json = bytes
        default:
            throw .unsupported(type)
        }
        do {
            return PostgresJSON(try PostgresJSONCoding.decoder.decode(Value.self, from: Data(json)))
        } catch {
            throw PostgresDecodingFailure("holds JSON that does not decode as \(Value.self): \(error)")
        }
    }
}

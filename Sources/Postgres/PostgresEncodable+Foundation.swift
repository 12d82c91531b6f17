public import Foundation
import StreamingJSON

/// Seconds between PostgreSQL's epoch (2000-01-01) and Foundation's reference date (2001-01-01).
let postgresEpochOffset: TimeInterval = 31_622_400

extension Date: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .timestamptz }
    public static var postgresArrayType: PostgresDataType { .timestamptzArray }

    /// Sent as `timestamptz`: microseconds since 2000-01-01 UTC.
    ///
    /// A date outside PostgreSQL's range (4714-11-24 BC to 294276 AD), or NaN, is sent as a value the
    /// server refuses with 22008 (timestamp out of range): never a trap, and never ±infinity, which it
    /// would store. Callers check dates from outside before they bind them.
    public func encode(into buffer: inout [UInt8]) {
        let microseconds = ((timeIntervalSinceReferenceDate + postgresEpochOffset) * 1_000_000).rounded()
        guard microseconds >= -211_813_488_000_000_000, microseconds < 9_223_371_331_200_000_000,
            let value = Int64(exactly: microseconds)
        else {
            buffer.appendBigEndian(Int64.max - 1)
            return
        }
        buffer.appendBigEndian(value)
    }
}

extension UUID: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .uuid }
    public static var postgresArrayType: PostgresDataType { .uuidArray }
    public func encode(into buffer: inout [UInt8]) {
        Swift.withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
    }
}

extension Data: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .bytea }
    public static var postgresArrayType: PostgresDataType { .byteaArray }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

/// A `Codable` value stored as `jsonb`.
///
/// ```swift
/// try await db.query("INSERT INTO jobs (args) VALUES (\(PostgresJSON(args)))")
/// let args = try row.decode(PostgresJSON<Args>.self).value
/// ```
public struct PostgresJSON<Value: Codable & Sendable>: Sendable, PostgresArrayElement {
    /// The wrapped value.
    public var value: Value

    /// Wraps a value.
    public init(_ value: Value) { self.value = value }

    public static var postgresType: PostgresDataType { .jsonb }
    public static var postgresArrayType: PostgresDataType { .jsonbArray }

    /// Sent as jsonb version 1 followed by the JSON text. Dates are ISO 8601.
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(1)
        // Encoding a Codable value into JSON fails only for non-finite floats; those become null.
        do {
            try StreamingJSONEncoder().encode(value, appendingTo: &buffer)
        } catch {
            buffer.append(contentsOf: "null".utf8)
        }
    }
}

/// The JSON decoder used for `jsonb` values (they are encoded by `StreamingJSONEncoder`).
enum PostgresJSONCoding {
    /// Reads ISO 8601 dates with or without fractional seconds (PostgreSQL writes `now()` with microseconds).
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\(text) is not an ISO 8601 date"))
        }
        return decoder
    }()
}

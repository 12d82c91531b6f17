/// SQL text with bound parameters.
///
/// String interpolation binds each value as `$1`, `$2`, ...: the value never
/// becomes part of the SQL text.
///
/// ```swift
/// let rows = try await db.query("SELECT name FROM units WHERE id = \(unitID)")
/// ```
///
/// Text that must become SQL (an identifier from a closed list) goes through the
/// loud `unsafeRaw:` interpolation or `init(unsafeSQL:)`.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text with `$n` placeholders.
    public var sql: String
    /// The values bound to the placeholders.
    public var bindings: PostgresBindings

    /// Creates a query from trusted SQL text and its bindings.
    ///
    /// Never build `sql` from user input: bind values instead.
    public init(unsafeSQL sql: String, bindings: PostgresBindings = PostgresBindings()) {
        self.sql = sql
        self.bindings = bindings
    }

    public init(stringLiteral value: String) {
        self.sql = value
        self.bindings = PostgresBindings()
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.bindings = stringInterpolation.bindings
    }

    /// The SQL text with bound values masked.
    public var description: String {
        bindings.count == 0 ? sql : "\(sql) [\(bindings.count) bound values: ****]"
    }

    /// Builds a query's text and bindings.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var sql: String
        var bindings: PostgresBindings

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            bindings = PostgresBindings(capacity: interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds a value as the next `$n` parameter.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            bindings.append(value)
            sql += "$\(bindings.count)"
        }

        /// Binds an optional value; `nil` is sent as NULL of the wrapped type.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            if let value {
                bindings.append(value)
            } else {
                bindings.appendNull(type: Value.postgresType)
            }
            sql += "$\(bindings.count)"
        }

        /// Inserts text into the SQL itself. Only for identifiers or fragments from a closed set.
        public mutating func appendInterpolation(unsafeRaw text: String) {
            sql += text
        }

        /// Inserts another query built by interpolation, its `$n` placeholders renumbered after
        /// the ones bound so far. The fragment's literal text must not itself contain `$` followed
        /// by digits (fragments come from interpolation, so their only such text is placeholders).
        public mutating func appendInterpolation(fragment: PostgresQuery) {
            let offset = bindings.count
            // The text is read as UTF-8 bytes: `$` and digits are ASCII, and no character boundary is needed.
            if offset == 0 || !fragment.sql.utf8.contains(UInt8(ascii: "$")) {
                sql += fragment.sql
            } else {
                let bytes = Array(fragment.sql.utf8)
                var output: [UInt8] = []
                output.reserveCapacity(bytes.count + 8)
                // Runs between placeholders are copied whole; only a `$` and its digits are rewritten.
                var start = 0
                while let dollar = bytes[start...].firstIndex(of: UInt8(ascii: "$")) {
                    var end = dollar + 1
                    var number = 0
                    while end < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) {
                        number = number * 10 + Int(bytes[end] - UInt8(ascii: "0"))
                        end += 1
                    }
                    output.append(contentsOf: bytes[start..<dollar])
                    if end > dollar + 1 {
                        output.append(contentsOf: "$\(offset + number)".utf8)
                    } else {
                        output.append(UInt8(ascii: "$"))
                    }
                    start = end
                }
                output.append(contentsOf: bytes[start...])
                sql += String(decoding: output, as: UTF8.self)
            }
            bindings.append(contentsOf: fragment.bindings)
        }
    }
}

/// The parameter values of a query, in binary format.
public struct PostgresBindings: Sendable {
    /// The type OID of each parameter.
    var types: [UInt32]
    /// Each parameter's bytes, back to back.
    var bytes: [UInt8]
    /// Where each parameter starts in `bytes`.
    var offsets: [Int]
    /// Each parameter's length, or -1 for NULL.
    var lengths: [Int32]

    /// An empty list.
    public init(capacity: Int = 0) {
        types = []
        bytes = []
        offsets = []
        lengths = []
        types.reserveCapacity(capacity)
        offsets.reserveCapacity(capacity)
        lengths.reserveCapacity(capacity)
    }

    /// The number of parameters.
    public var count: Int { types.count }

    /// Appends a value.
    public mutating func append<Value: PostgresEncodable>(_ value: Value) {
        let start = bytes.count
        value.encode(into: &bytes)
        types.append(Value.postgresType.oid)
        offsets.append(start)
        lengths.append(Int32(bytes.count - start))
    }

    /// Appends every parameter of `other`, after these.
    public mutating func append(contentsOf other: PostgresBindings) {
        let base = bytes.count
        types += other.types
        bytes += other.bytes
        offsets += other.offsets.map { $0 + base }
        lengths += other.lengths
    }

    /// Appends SQL NULL of the given type.
    public mutating func appendNull(type: PostgresDataType) {
        types.append(type.oid)
        offsets.append(bytes.count)
        lengths.append(-1)
    }
}

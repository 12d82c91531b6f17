/// A repeatable definition file: the functions, trigger functions, triggers and views of one area,
/// written so that running it again replaces them (`CREATE OR REPLACE`).
///
/// Versioned migrations hold what must be versioned (tables, columns, indexes, constraints, data
/// moves); a definition file holds the current text of every rule that is code. The migrator applies
/// the definition files after the migrations, in name order, whenever one of them is new or changed
/// (or a migration was applied), so a rule's body is written once, in one place.
public struct Definition: Sendable, Hashable {
    /// The file's name without `.sql`, for example `08_bids`; definitions apply in the order of their names.
    public var name: String
    /// The SQL text, possibly several statements.
    public var sql: String

    /// Creates a definition.
    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }

    /// Parses a file name of the form `NN_area.sql`.
    /// - Throws: `MigrationError` when the name does not have that form.
    public init(fileName: String, sql: String) throws {
        let stem = fileName.hasSuffix(".sql") ? String(fileName.dropLast(4)) : fileName
        let parts = stem.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 2, parts[0].allSatisfy(\.isASCIIDigitCharacter), !parts[1].isEmpty else {
            throw MigrationError(message: "definition file \(fileName) is not named NN_area.sql")
        }
        self.init(name: stem, sql: sql)
    }

    /// The SHA-256 of the SQL text (64 hex digits), recorded when the definition is applied.
    public var checksum: String { SHA256.hex(Array(sql.utf8)) }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

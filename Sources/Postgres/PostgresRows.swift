/// The result of a query: its columns, its rows and its command tag.
///
/// Values are copied out of libpq on the connection's thread, so a
/// `PostgresRows` is a plain value that can cross tasks.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// A result column.
    public struct Column: Sendable, Hashable {
        /// The column's name (its alias in the select list).
        public var name: String
        /// The column's PostgreSQL type.
        public var dataType: PostgresDataType
    }

    /// The columns, in select-list order.
    public let columns: [Column]
    /// The command tag, for example `INSERT 0 3` or `UPDATE 1`.
    public let commandTag: String
    /// Rows changed by INSERT, UPDATE, DELETE, MERGE or returned by SELECT, from the command tag.
    public let affectedRows: Int
    let storage: Storage

    /// The cells of a result, copied out of libpq into one allocation (immutable once made).
    final class Storage: @unchecked Sendable {
        /// Where a cell's bytes start in `bytes`, and how many there are (-1 for NULL).
        struct Cell {
            var offset: Int
            var length: Int32
        }

        /// The cells' bytes, back to back.
        let bytes: UnsafeMutableRawPointer
        /// Per cell, row-major.
        let cells: UnsafeMutableBufferPointer<Cell>
        let rowCount: Int

        /// Copies `rowCount` rows of `columnCount` cells, each given by `cell` as its bytes or nil for NULL.
        init(rowCount: Int, columnCount: Int, cell: (_ row: Int, _ column: Int) -> UnsafeRawBufferPointer?) {
            self.rowCount = rowCount
            let cells = UnsafeMutableBufferPointer<Cell>.allocate(capacity: rowCount * columnCount)
            var total = 0
            for row in 0..<rowCount {
                for column in 0..<columnCount {
                    let value = cell(row, column)
                    cells[row * columnCount + column] = Cell(offset: total, length: value.map { Int32($0.count) } ?? -1)
                    total += value?.count ?? 0
                }
            }
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(total, 1), alignment: 8)
            for row in 0..<rowCount {
                for column in 0..<columnCount {
                    let stored = cells[row * columnCount + column]
                    if stored.length > 0, let value = cell(row, column), let source = value.baseAddress {
                        (bytes + stored.offset).copyMemory(from: source, byteCount: Int(stored.length))
                    }
                }
            }
            self.cells = cells
            self.bytes = bytes
        }

        deinit {
            bytes.deallocate()
            cells.deallocate()
        }

        /// The cell at `index` (row-major); traps outside the result, as an array would.
        subscript(index: Int) -> Cell {
            precondition(index >= 0 && index < cells.count, "no cell \(index) in a result of \(cells.count)")
            return cells[index]
        }
    }

    init(columns: [Column], commandTag: String, affectedRows: Int, storage: Storage) {
        self.columns = columns
        self.commandTag = commandTag
        self.affectedRows = affectedRows
        self.storage = storage
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.rowCount }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// Decodes every row into the given column types.
    public func decode<each T: PostgresDecodable>(_ types: (repeat each T).Type) throws -> [(repeat each T)] {
        try map { row in try row.decode(types) }
    }

    /// Decodes every row's only column.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type) throws -> [Value] {
        try map { row in try row.decode(type) }
    }

    /// Decodes the only row, or returns nil when there is none. Throws when there are several.
    public func single<each T: PostgresDecodable>(_ types: (repeat each T).Type) throws -> (repeat each T)? {
        guard let first else { return nil }
        guard count == 1 else {
            throw PostgresError(code: .invalidQuery, message: "expected at most one row, got \(count)")
        }
        let value: (repeat each T) = try first.decode((repeat each T).self)
        return value
    }

    /// The index of the column with this name, if any.
    public func columnIndex(named name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}

/// One row of a result.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// The number of columns.
    public var columnCount: Int { rows.columns.count }

    /// Whether the column at `column` is NULL; traps for a column the row does not have.
    public func isNull(_ column: Int) -> Bool {
        precondition(column >= 0 && column < columnCount, "no column \(column) in a row of \(columnCount)")
        return rows.storage[index * columnCount + column].length < 0
    }

    /// Decodes the row's columns, in order, into the given types.
    ///
    /// ```swift
    /// let (id, name) = try row.decode((Int, String).self)
    /// ```
    /// - Throws: `PostgresDecodingError` naming the column and the expected type.
    public func decode<each T: PostgresDecodable>(_: (repeat each T).Type) throws -> (repeat each T) {
        var wanted = 0
        for _ in repeat (each T).self { wanted += 1 }
        guard wanted == columnCount else {
            throw PostgresDecodingError(
                column: rows.columns.map(\.name).joined(separator: ", "), columnIndex: 0,
                expectedType: "\(wanted) columns", postgresType: .unknown,
                reason: "has \(columnCount) columns")
        }
        var column = 0
        func next<U: PostgresDecodable>(_: U.Type) throws -> U {
            defer { column += 1 }
            return try decode(U.self, at: column)
        }
        return (repeat try next((each T).self))
    }

    /// Decodes the row's only column.
    public func decode<Value: PostgresDecodable>(_: Value.Type) throws -> Value {
        guard columnCount == 1 else {
            throw PostgresDecodingError(
                column: rows.columns.map(\.name).joined(separator: ", "), columnIndex: 0,
                expectedType: "one column of \(Value.self)", postgresType: .unknown, reason: "has \(columnCount) columns")
        }
        return try decode(Value.self, at: 0)
    }

    /// Decodes the column at position `column` (from 0).
    public func decode<Value: PostgresDecodable>(_: Value.Type, at column: Int) throws -> Value {
        let columns = rows.columns
        guard column >= 0 && column < columns.count else {
            throw PostgresDecodingError(
                column: "#\(column)", columnIndex: column, expectedType: "\(Value.self)", postgresType: .unknown,
                reason: "does not exist (the row has \(columns.count) columns)")
        }
        let storage = rows.storage
        let cell = storage[index * columns.count + column]
        do {
            if cell.length < 0 { return try Value.decodeNull() }
            return try withExtendedLifetime(storage) {
                try Value.decode(
                    from: UnsafeRawBufferPointer(start: storage.bytes + cell.offset, count: Int(cell.length)),
                    type: columns[column].dataType)
            }
        } catch let error as PostgresDecodingFailure {
            throw PostgresDecodingError(
                column: columns[column].name, columnIndex: column, expectedType: "\(Value.self)",
                postgresType: columns[column].dataType, reason: error.reason)
        }
    }

    /// Decodes the column with this name.
    public func decode<Value: PostgresDecodable>(_: Value.Type, column name: String) throws -> Value {
        guard let column = rows.columnIndex(named: name) else {
            throw PostgresDecodingError(
                column: name, columnIndex: -1, expectedType: "\(Value.self)", postgresType: .unknown,
                reason: "is not in the result (columns: \(rows.columns.map(\.name).joined(separator: ", ")))")
        }
        return try decode(Value.self, at: column)
    }
}

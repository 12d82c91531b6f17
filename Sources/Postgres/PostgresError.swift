/// An error from the database or from the client itself.
///
/// Server errors carry the fields PostgreSQL reports (SQLSTATE, constraint,
/// table, column, detail), so callers can map a violation to a precise answer
/// by `sqlState` and `constraint`, never by message text.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectionFailed, connectionLost, server, acquireTimeout, clientClosed, invalidQuery, transaction
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A connection could not be opened (bad connection string, server down, authentication).
        public static let connectionFailed = Code(.connectionFailed)
        /// An open connection broke while in use.
        public static let connectionLost = Code(.connectionLost)
        /// The server answered with an error; see `sqlState`.
        public static let server = Code(.server)
        /// No pooled connection became free within the acquire timeout.
        public static let acquireTimeout = Code(.acquireTimeout)
        /// The client was closed.
        public static let clientClosed = Code(.clientClosed)
        /// The query could not be sent as written (for example a NUL byte in its text).
        public static let invalidQuery = Code(.invalidQuery)
        /// A transaction could not commit because an earlier statement in it failed.
        public static let transaction = Code(.transaction)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The primary message (from the server, or the client's own).
    public var message: String
    /// The five-character SQLSTATE of a server error, for example `23505`.
    public var sqlState: SQLState?
    /// The severity reported by the server (ERROR, FATAL, PANIC).
    public var severity: String?
    /// The server's detail line.
    public var detail: String?
    /// The server's hint line.
    public var hint: String?
    /// The schema of the object involved.
    public var schema: String?
    /// The table involved.
    public var table: String?
    /// The column involved.
    public var column: String?
    /// The constraint whose violation caused the error.
    public var constraint: String?
    /// The data type involved.
    public var dataType: String?
    /// The SQL text that failed, without bound values.
    public var query: String?

    /// Creates an error.
    public init(code: Code, message: String, sqlState: SQLState? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    /// A one-line description without bound values or the query text.
    public var description: String {
        var text = "PostgreSQL \(code)"
        if let sqlState { text += " \(sqlState.code)" }
        text += ": \(message)"
        if let constraint { text += " (constraint \(constraint))" }
        return text
    }

    /// The full description, with detail, hint and query text.
    public var debugDescription: String {
        var text = description
        if let detail { text += "; detail: \(detail)" }
        if let hint { text += "; hint: \(hint)" }
        if let table { text += "; table: \(table)" }
        if let column { text += "; column: \(column)" }
        if let query { text += "; query: \(query)" }
        return text
    }

    /// Whether retrying the whole transaction may succeed (serialization failure or deadlock).
    public var isTransient: Bool {
        sqlState == .serializationFailure || sqlState == .deadlockDetected
    }

    /// Whether the database could not serve the statement now, through no fault of its input: a
    /// statement or lock timeout (57014, 55P03), an idle transaction ended (25P03), too many
    /// connections (53300), out of memory (53200), a configuration limit such as the lock table's
    /// (53400), a write on a server that became a standby (25006), a serialization failure or
    /// deadlock still there after the client's retries (`isTransient`), no free pooled connection, or
    /// an outage (`isOutage`). A caller may try again later (HTTP 503).
    public var isUnavailable: Bool {
        if code == .acquireTimeout || isOutage || isTransient { return true }
        guard let state = sqlState?.code else { return false }
        return ["57014", "55P03", "25P03", "53300", "53200", "53400", "25006"].contains(state)
    }

    /// Whether the connection that reported this error must not be used again: the server is away
    /// (`isOutage`), or it is read-only (25006 read_only_sql_transaction: a primary demoted to a standby
    /// by a switchover). The pool drops the connection, and the next one it opens finds the primary
    /// through the connection string's `target_session_attrs`.
    public var dropsConnection: Bool {
        isOutage || sqlState?.code == "25006"
    }

    /// Whether the database itself is away, not merely busy: a connection that could not be opened or
    /// broke, an admin shutdown, a crash or a server that cannot accept connections yet (57P01-57P03), or
    /// any connection exception (class 08).
    public var isOutage: Bool {
        if code == .connectionFailed || code == .connectionLost { return true }
        guard let state = sqlState else { return false }
        return ["57P01", "57P02", "57P03"].contains(state.code) || state.errorClass == "08"
    }
}

/// A PostgreSQL SQLSTATE error code.
public struct SQLState: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The five-character code.
    public let code: String

    /// Creates a code from its five characters.
    public init(_ code: String) { self.code = code }
    public init(stringLiteral value: String) { self.code = value }

    public var description: String { code }

    /// The two-character class, for example `23` for integrity constraint violations.
    public var errorClass: Substring { code.prefix(2) }

    /// 23505
    public static let uniqueViolation: SQLState = "23505"
    /// 23503
    public static let foreignKeyViolation: SQLState = "23503"
    /// 23514
    public static let checkViolation: SQLState = "23514"
    /// 23502
    public static let notNullViolation: SQLState = "23502"
    /// 23P01
    public static let exclusionViolation: SQLState = "23P01"
    /// 40001
    public static let serializationFailure: SQLState = "40001"
    /// 40P01
    public static let deadlockDetected: SQLState = "40P01"
    /// 57014
    public static let queryCanceled: SQLState = "57014"
    /// 57P01
    public static let adminShutdown: SQLState = "57P01"
    /// P0001, raised by `RAISE EXCEPTION` in a trigger or function.
    public static let raiseException: SQLState = "P0001"
    /// 42P01
    public static let undefinedTable: SQLState = "42P01"
    /// 55P03
    public static let lockNotAvailable: SQLState = "55P03"
}

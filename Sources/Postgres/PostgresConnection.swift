import CLibPQ
import Foundation
import Logging

/// One connection to PostgreSQL, leased from a `PostgresClient`.
///
/// A connection is used by one task at a time. Every libpq call it makes runs
/// on the client's dedicated threads; cancelling the calling task cancels the
/// running statement on the server (`PQcancel`).
public final class PostgresConnection: @unchecked Sendable {
    /// The `PGconn *`; owned by this object, touched only on the pool's threads.
    let handle: OpaquePointer
    /// The `PGcancel *` for the current backend.
    private var cancelHandle: OpaquePointer?
    private let threads: PostgresThreadPool
    /// The event loop that sends this connection's statements and reads their results.
    let loop: PostgresEventLoop
    /// The connection's state: what is in flight and what comes next (guarded by `execution`).
    var machine: ConnectionStateMachine
    /// The statements in flight and their caller (the thread running the operation).
    var waiting: Waiting?
    /// How the event loop watches the socket (see `PostgresEventLoop`); nil until it first does, and after a reset.
    var loopRegistration: LoopRegistration?
    /// Where `withTransaction` stands: its BEGIN waits to go out with the first statement.
    private var transaction = TransactionStage.none
    /// Guards `machine` and `cancelInFlight`.
    let execution = NSLock()
    /// Lets one task at a time run statements: concurrent callers (`async let`) queue in order.
    private let gate = ConnectionGate()
    private var cancelInFlight: DispatchSemaphore?
    private var closed = false

    /// A number identifying this connection in logs.
    public let id: Int
    /// Whether the connection is unusable and must not go back to the pool.
    var isBroken: Bool { event { $0.isBroken } }

    /// The server process serving this connection.
    public private(set) var backendPID: Int32 = 0

    private init(
        handle: OpaquePointer, id: Int, threads: PostgresThreadPool, loop: PostgresEventLoop, statementCacheCapacity: Int
    ) {
        self.handle = handle
        self.loop = loop
        self.machine = ConnectionStateMachine(statementCacheCapacity: statementCacheCapacity)
        self.id = id
        self.threads = threads
        self.cancelHandle = PQgetCancel(handle)
        self.backendPID = PQbackendPID(handle)
    }

    deinit {
        if !closed {
            if let cancelHandle { PQfreeCancel(cancelHandle) }
            PQfinish(handle)
        }
    }

    /// Guards `cancelHandle`, which a cancel thread uses while the connection's thread may reset it.
    private let cancelLock = NSLock()

    /// Opens a connection.
    /// - Parameters:
    ///   - configuration: the connection string (a libpq string or URI; empty means the `PG*`
    ///     environment variables) and an optional database name replacing the one in it.
    ///   - id: a number for logs.
    ///   - threads: where libpq calls run.
    /// - Throws: `PostgresError` with code `.connectionFailed` and libpq's message on one line.
    static func connect(
        configuration: PostgresConfiguration, id: Int, threads: PostgresThreadPool, loop: PostgresEventLoop
    ) async throws -> PostgresConnection {
        try await threads.run { () throws(PostgresError) -> PostgresConnection in
            try blockingConnect(configuration: configuration, id: id, threads: threads, loop: loop)
        }
    }

    private static func blockingConnect(
        configuration: PostgresConfiguration, id: Int, threads: PostgresThreadPool, loop: PostgresEventLoop
    ) throws(PostgresError) -> PostgresConnection {
        var parameters: [(String, String)] = [
            ("client_encoding", "UTF8"),
            ("fallback_application_name", "jiebang"),
        ]
        if ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"] == nil {
            parameters.insert(("connect_timeout", "10"), at: 0)
        }
        // Over TCP, a server that vanished (a partition, a host gone) is noticed within about a minute
        // rather than the kernel's two hours; unix sockets ignore these.
        parameters += [
            ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3"),
            ("tcp_user_timeout", "60000"),
        ]
        // The connection string comes after these defaults: its own settings win over them.
        parameters.append(("dbname", configuration.connectionString))
        // Only the first dbname is expanded as a connection string; a second one is a plain name.
        if let databaseName = configuration.databaseName { parameters.append(("dbname", databaseName)) }
        // The session's timeouts, then the connection string's own `options` (or PGOPTIONS): a later
        // `-c` for the same name wins, so a setting the operator wrote beats our default.
        // A transaction pooler refuses startup options (PgBouncer: "unsupported startup parameter").
        let settings = configuration.transactionPooling ? [] : configuration.sessionSettings
        if !settings.isEmpty {
            let own = optionsSetting(in: configuration.connectionString) ?? ProcessInfo.processInfo.environment["PGOPTIONS"]
            parameters.append(("options", (settings + [own ?? ""]).filter { !$0.isEmpty }.joined(separator: " ")))
        }
        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        guard let handle = PQconnectdbParams(keywordPointers, valuePointers, 1) else {
            throw PostgresError(code: .connectionFailed, message: "out of memory while connecting")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = oneLine(String(cString: PQerrorMessage(handle)))
            PQfinish(handle)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        // Server notices (NOTICE, WARNING outside errors) are not errors; keep them off stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        // Statements run through the event loop with libpq's non-blocking calls.
        PQsetnonblocking(handle, 1)
        return PostgresConnection(
            handle: handle, id: id, threads: threads, loop: loop,
            statementCacheCapacity: configuration.effectiveStatementCacheSize)
    }

    /// The `options` a connection string sets, if it is one (a URI or `key=value` words) and sets them.
    private static func optionsSetting(in connectionString: String) -> String? {
        guard connectionString.contains("=") || connectionString.hasPrefix("postgres") else { return nil }
        var error: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(connectionString, &error) else {
            if let error { PQfreemem(error) }
            return nil
        }
        defer { PQconninfoFree(parsed) }
        var option = parsed
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "options", let value = option.pointee.val { return String(cString: value) }
            option += 1
        }
        return nil
    }

    /// Runs a query and returns its rows.
    /// - Throws: `PostgresError`; `CancellationError` when the task was cancelled.
    ///
    /// The first statement of a transaction carries its BEGIN in the same round trip. Statements sent
    /// at once by several tasks on one connection run one after the other, in arrival order.
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await gate.run { try await self.runQuery(query) }
    }

    private func runQuery(_ query: PostgresQuery) async throws -> PostgresRows {
        switch transaction {
        case .none, .open:
            return try await runOnLoop(query, checkingCancellation: true)
        case .pending(let begin):
            transaction = .open
            return try await handToLoop([begin, query], pipelined: true, checkingCancellation: true)[1]
        case .committed:
            throw PostgresError(
                code: .transaction, message: "the transaction was committed by commit(after:); no statement may follow it")
        }
    }

    /// Runs the last statement of the transaction `withTransaction` runs, and commits in the same round
    /// trip: a transaction of two statements then costs two round trips, not four.
    ///
    /// When the statement fails the commit is skipped and `withTransaction` rolls back. No statement may
    /// follow it in the transaction's body.
    /// - Throws: `PostgresError`; code `.transaction` outside `withTransaction`, or when the commit rolled back.
    public func commit(after query: PostgresQuery) async throws -> PostgresRows {
        try await gate.run { try await self.runCommit(after: query) }
    }

    private func runCommit(after query: PostgresQuery) async throws -> PostgresRows {
        let statements: [PostgresQuery]
        switch transaction {
        case .pending(let begin): statements = [begin, query, "COMMIT"]
        case .open: statements = [query, "COMMIT"]
        case .none, .committed:
            throw PostgresError(code: .transaction, message: "commit(after:) runs in the body of withTransaction only")
        }
        transaction = .committed
        let rows = try await handToLoop(statements, pipelined: true, checkingCancellation: true)
        if rows[rows.count - 1].commandTag == "ROLLBACK" {
            throw PostgresError(
                code: .transaction, message: "the transaction was rolled back because a statement in it failed")
        }
        return rows[rows.count - 2]
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await self.query(query).affectedRows
    }

    /// Runs SQL text that may hold several statements, with no parameters (the simple query protocol).
    ///
    /// For migrations and scripts only: never build `sql` from input.
    public func execute(unsafeScript sql: String) async throws {
        try await gate.run { try await self.runScript(sql) }
    }

    private func runScript(_ sql: String) async throws {
        if case .pending(let begin) = transaction {
            transaction = .open
            _ = try await runOnLoop(begin, checkingCancellation: true)
        }
        try Task.checkCancellation()
        let generation = try event { $0.submitScript() }.get()
        do {
            try await withTaskCancellationHandler {
                try await threads.run { () throws(PostgresError) in try self.blockingRunScript(sql) }
            } onCancel: {
                self.requestCancel(generation)
            }
            await waitForCancelRequest()
        } catch let error as PostgresError {
            await waitForCancelRequest()
            if error.sqlState == .queryCanceled && Task.isCancelled { throw CancellationError() }
            throw error
        }
    }

    /// Runs `body` inside a transaction: commits when it returns, rolls back when it throws.
    ///
    /// BEGIN goes out with the body's first statement, in one round trip; `commit(after:)` sends the
    /// last statement with COMMIT. A body that runs no statement costs nothing.
    /// - Parameters:
    ///   - isolation: the isolation level.
    ///   - readOnly: whether the transaction may write.
    public func withTransaction<Result: Sendable>(
        isolation: PostgresIsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let begin = PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL \(isolation.sql)\(readOnly ? " READ ONLY" : "")")
        try await gate.run {
            guard case .none = self.transaction else {
                throw PostgresError(code: .transaction, message: "a transaction is already running on this connection")
            }
            self.transaction = .pending(begin: begin)
        }
        defer { transaction = .none }
        let result: Result
        do {
            result = try await body(self)
        } catch {
            if case .pending = transaction {} else { await rollback() }
            throw error
        }
        guard case .open = transaction else { return result }
        let commit: PostgresRows
        do {
            commit = try await query("COMMIT")
        } catch {
            await rollback()
            throw error
        }
        if commit.commandTag == "ROLLBACK" {
            throw PostgresError(
                code: .transaction,
                message: "the transaction was rolled back because a statement in it failed")
        }
        return result
    }

    /// Rolls back whatever transaction is open, even in a cancelled task; a failure breaks the connection.
    func rollback() async {
        guard !isBroken else { return }
        do {
            try await gate.run(cancellable: false) {
                _ = try await self.runOnLoop("ROLLBACK", checkingCancellation: false)
            }
        } catch {
            event { $0.markBroken() }
        }
    }

    /// Closes the connection. It cannot be used afterwards.
    func close() async {
        guard !closed else { return }
        closed = true
        // With an operation in flight, libpq's handle is freed when it ends (`closeIfDone`), not under it.
        if event({ $0.close() }) { threads.submit { self.blockingClose() } }
    }

    /// Frees libpq's handle once the operation that was in flight when `close()` ran has ended.
    func closeIfDone() {
        guard event({ $0.takeDueClose() }) else { return }
        threads.submit { self.blockingClose() }
    }

    private func blockingClose() {
        cancelLock.withLock {
            if let cancelHandle { PQfreeCancel(cancelHandle) }
            cancelHandle = nil
        }
        PQfinish(handle)
    }

    // MARK: - Running one operation

    /// Hands `query` to the event loop and waits for its rows.
    private func runOnLoop(_ query: PostgresQuery, checkingCancellation: Bool) async throws -> PostgresRows {
        try await handToLoop([query], pipelined: false, checkingCancellation: checkingCancellation)[0]
    }

    /// Submits `queries` to the state machine, wakes the event loop and waits for every statement's rows.
    /// An idle connection the server closed is reopened once (on the thread pool) and the operation sent again.
    private func handToLoop(
        _ queries: [PostgresQuery], pipelined: Bool, checkingCancellation: Bool
    ) async throws -> [PostgresRows] {
        if checkingCancellation { try Task.checkCancellation() }
        guard !closed else { throw PostgresError(code: .clientClosed, message: "the connection is closed") }
        let keys = queries.map { StatementKey(sql: $0.sql, types: $0.bindings.types) }
        var reset = false
        while true {
            let generation = try event { $0.submit(keys, pipelined: pipelined) }.get()
            do {
                let output = try await withTaskCancellationHandler {
                    try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<[PostgresRows], any Error>) in
                        waiting = Waiting(queries: queries, continuation: continuation)
                        loop.start(self)
                    }
                } onCancel: {
                    if checkingCancellation { self.requestCancel(generation) }
                }
                await waitForCancelRequest()
                return output
            } catch is NeedsReset where !reset {
                reset = true
                try await threads.run { () throws(PostgresError) in try self.blockingReset() }
            } catch let error as PostgresError where error.sqlState == .queryCanceled {
                await waitForCancelRequest()
                if Task.isCancelled { throw CancellationError() }
                throw error
            } catch {
                await waitForCancelRequest()
                throw error
            }
        }
    }

    /// Waits until a cancel request sent for the last statement has landed, so that it cannot hit the next one.
    private func waitForCancelRequest() async {
        let pending = execution.withLock {
            defer { cancelInFlight = nil }
            return cancelInFlight
        }
        guard let pending else { return }
        _ = try? await threads.run { pending.wait() }
    }

    /// Asks the machine to cancel operation `generation`; when it runs on the server, sends the cancel request
    /// on a thread of its own, which the next operation waits for (`waitForCancelRequest`).
    private func requestCancel(_ generation: UInt64) {
        execution.lock()
        defer { execution.unlock() }
        guard case .sendCancel = machine.cancel(generation) else { return }
        let done = DispatchSemaphore(value: 0)
        cancelInFlight = done
        let thread = Thread { [self] in
            cancelLock.withLock {
                var buffer = [CChar](repeating: 0, count: 256)
                if let cancelHandle { _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count)) }
            }
            done.signal()
        }
        thread.name = "postgres-cancel"
        thread.start()
    }

    // MARK: - Blocking libpq calls (pool threads only)

    /// Waits on the socket until `wake` becomes readable or the connection fails,
    /// handing each notification to `deliver`. Runs on the listener's own thread.
    func blockingWaitForNotifications(wake: Int32, deliver: (PostgresNotification) -> Void) -> WaitOutcome {
        while true {
            var descriptors = [
                pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&descriptors, 2, -1) < 0 {
                if errno == EINTR { continue }
                return .failed(PostgresError(code: .connectionLost, message: "poll failed: errno \(errno)"))
            }
            if descriptors[1].revents != 0 { return .stopped }
            // Over TLS, also what the TLS layer already decrypted, which the socket no longer reports.
            var consumed = PQconsumeInput(handle) == 1
            draining: while consumed {
                switch readTLSBuffer() {
                case .none: break draining
                case .read: continue
                case .failed: consumed = false
                }
            }
            if !consumed || PQstatus(handle) != CONNECTION_OK {
                event { $0.markBroken() }
                return .failed(
                    PostgresError(code: .connectionLost, message: oneLine(String(cString: PQerrorMessage(handle)))))
            }
            while let notification = PQnotifies(handle) {
                deliver(
                    PostgresNotification(
                        channel: String(cString: notification.pointee.relname),
                        payload: String(cString: notification.pointee.extra),
                        senderPID: notification.pointee.be_pid))
                PQfreemem(notification)
            }
        }
    }

    /// Calls `body` with libpq's parameter arrays (values, lengths, formats) pointing into `bindings`.
    func withParameterValues<Result>(
        _ bindings: PostgresBindings,
        _ body: ([UnsafePointer<CChar>?], [Int32], [Int32]) -> Result
    ) -> Result {
        let count = bindings.count
        return bindings.bytes.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(emptyValue)
            var values = [UnsafePointer<CChar>?](repeating: nil, count: count)
            for index in 0..<count where bindings.lengths[index] >= 0 {
                values[index] = (base + bindings.offsets[index]).assumingMemoryBound(to: CChar.self)
            }
            return body(values, bindings.lengths, [Int32](repeating: 1, count: count))
        }
    }

    /// Runs the submitted script with libpq's blocking `PQexec` (pool threads only), after reopening an idle
    /// connection the server closed, and reports its end to the machine.
    private func blockingRunScript(_ sql: String) throws(PostgresError) {
        let (action, checkHealth) = event { machine in
            let checkHealth = machine.needsHealthCheck
            return (machine.start(healthy: true), checkHealth)
        }
        guard case .runScript = action else {
            if case .finish(.failure(let error)) = action { throw error }
            return
        }
        var outcome: Result<Void, PostgresError>
        do {
            if checkHealth && !socketLooksOpen() { try blockingReset() }
            // PQexec returns the last statement's result; an error stops the script there.
            let result = PQexec(handle, sql)
            defer { PQclear(result) }
            _ = try makeRows(result, query: nil)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let inTransaction = PQtransactionStatus(handle) != PQTRANS_IDLE
        let connectionOK = PQstatus(handle) == CONNECTION_OK
        let end = event { $0.scriptFinished(outcome, inTransaction: inTransaction, connectionOK: connectionOK) }
        closeIfDone()
        if case .finish(.failure(let error)) = end { throw error }
    }

    /// Reopens a connection that the server closed (restart, idle timeout, terminated backend).
    private func blockingReset() throws(PostgresError) {
        cancelLock.withLock {
            if let cancelHandle { PQfreeCancel(cancelHandle) }
            cancelHandle = nil
        }
        PQreset(handle)
        loopRegistration = nil
        let succeeded = PQstatus(handle) == CONNECTION_OK
        event { $0.didReset(succeeded: succeeded) }
        guard succeeded else {
            throw PostgresError(code: .connectionFailed, message: oneLine(String(cString: PQerrorMessage(handle))))
        }
        PQsetnonblocking(handle, 1)
        cancelLock.withLock { cancelHandle = PQgetCancel(handle) }
        backendPID = PQbackendPID(handle)
    }

    func makeRows(_ result: OpaquePointer?, query: String?) throws(PostgresError) -> PostgresRows {
        guard let result else {
            throw connectionError(query: query)
        }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return copyRows(result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            throw serverError(result, query: query)
        default:
            let status = String(cString: PQresStatus(PQresultStatus(result)))
            throw PostgresError(code: .invalidQuery, message: "unsupported result status \(status) (COPY is not supported)")
        }
    }

    private func copyRows(_ result: OpaquePointer) -> PostgresRows {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [PostgresRows.Column] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(
                PostgresRows.Column(
                    name: String(cString: PQfname(result, Int32(column))),
                    dataType: PostgresDataType(PQftype(result, Int32(column)))))
        }
        let storage = PostgresRows.Storage(rowCount: rowCount, columnCount: columnCount) { row, column in
            if PQgetisnull(result, Int32(row), Int32(column)) != 0 { return nil }
            let length = Int(PQgetlength(result, Int32(row), Int32(column)))
            guard length > 0, let value = PQgetvalue(result, Int32(row), Int32(column)) else {
                return UnsafeRawBufferPointer(start: nil, count: 0)
            }
            return UnsafeRawBufferPointer(start: value, count: length)
        }
        let commandTag = String(cString: PQcmdStatus(result))
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(
            columns: columns, commandTag: commandTag, affectedRows: affected,
            storage: storage)
    }

    private func serverError(_ result: OpaquePointer, query: String?) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let connectionBroken = PQstatus(handle) != CONNECTION_OK
        let message = field("M") ?? oneLine(String(cString: PQresultErrorMessage(result)))
        var error = PostgresError(
            code: connectionBroken ? .connectionLost : .server, message: message, sqlState: field("C").map { SQLState($0) })
        error.severity = field("V")
        error.detail = field("D")
        error.hint = field("H")
        error.schema = field("s")
        error.table = field("t")
        error.column = field("c")
        error.dataType = field("d")
        error.constraint = field("n")
        error.query = query
        return error
    }

    private func connectionError(query: String?) -> PostgresError {
        var error = PostgresError(
            code: PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost,
            message: oneLine(String(cString: PQerrorMessage(handle))))
        error.query = query
        return error
    }
}

/// Identifies a prepared statement: its text and its parameters' types.
struct StatementKey: Hashable {
    var sql: String
    var types: [UInt32]
}

/// A non-null pointer for zero-length parameter values.
nonisolated(unsafe) private let emptyValue = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

/// libpq's multi-line messages, joined into one line.
func oneLine(_ message: String) -> String {
    message.split(whereSeparator: \.isNewline)
        .map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }
        .joined(separator: " ")
}

/// A transaction isolation level.
public enum PostgresIsolationLevel: Sendable {
    case readCommitted, repeatableRead, serializable

    var sql: String {
        switch self {
        case .readCommitted: "READ COMMITTED"
        case .repeatableRead: "REPEATABLE READ"
        case .serializable: "SERIALIZABLE"
        }
    }
}

/// Where a connection's `withTransaction` stands.
enum TransactionStage {
    /// No transaction runs.
    case none
    /// BEGIN waits to be sent with the first statement.
    case pending(begin: PostgresQuery)
    /// BEGIN was sent.
    case open
    /// `commit(after:)` sent the COMMIT.
    case committed
}

/// The life of one connection as a value: which operation is in flight, how far it got, and what the
/// event loop must do next.
///
/// The machine makes no libpq call and never blocks. Its owner (`PostgresConnection` and the event loop)
/// reports what happened (an operation submitted, commands sent, output flushed, a result read, a command
/// ended, the Sync reached, a read or write failed, a cancel asked for) and performs the `Action` each event
/// returns. Every event is defined in every phase: one that cannot happen there (a result while idle, a
/// second submission while busy) returns a failure or nothing, never a crash, so the machine is tested
/// event by event without a server (`ConnectionStateMachineTests`).
struct ConnectionStateMachine {
    /// Where the connection stands.
    enum Phase: Equatable {
        /// Nothing in flight.
        case idle
        /// An operation was submitted and waits for the event loop (or the thread pool, for a script).
        case queued
        /// Commands were handed to libpq and its output is not all flushed yet.
        case sending
        /// All output went out; results arrive (a script runs on the thread pool).
        case awaitingResults
        /// A cancel request is on its way for the running operation; its results are still read to the end.
        case cancelling
        /// The connection failed and must not be used again.
        case broken
        /// The connection was closed.
        case closed
    }

    /// One protocol command the event loop sends.
    enum Command: Equatable {
        /// Parse the SQL of statement `statement` as the prepared statement `name`.
        case prepare(statement: Int, name: String)
        /// Execute the prepared statement `name` with the parameters of statement `statement`.
        case executePrepared(statement: Int, name: String)
        /// Parse and execute statement `statement` unnamed.
        case execute(statement: Int)

        /// The statement the command belongs to.
        var statement: Int {
            switch self {
            case .prepare(let statement, _), .executePrepared(let statement, _), .execute(let statement): statement
            }
        }
    }

    /// What the owner does next.
    enum Action {
        /// Send `commands` (in pipeline mode, ended by a Sync, when `pipelined`), then report `sent()` or `failed`.
        case send([Command], pipelined: Bool)
        /// Flush libpq's output, then report `flushed(pending:)` or `failed`.
        case flush
        /// Wait for the socket: readable always, writable too while output is queued.
        case wait(writable: Bool)
        /// Read the results libpq holds, reporting each (`received`, `commandEnded`, `synced`), then `inputNeeded()`.
        case read
        /// The operation ended: resume its caller with every statement's rows, or the failure.
        case finish(Result<[PostgresRows], PostgresError>)
        /// The idle connection was found closed by the server: reopen it (then `didReset`), and submit again.
        case reset
        /// Run the script on the thread pool, then report `scriptFinished`.
        case runScript
        /// Send a cancel request for the running operation.
        case sendCancel
        /// Nothing to do.
        case none
    }

    /// A result libpq returned for the current command.
    enum Received {
        /// The command's rows, or its error.
        case outcome(Result<PostgresRows, PostgresError>)
        /// A command skipped because an earlier one in the pipeline failed.
        case aborted
    }

    /// The operation in flight.
    struct Operation {
        /// Identifies the operation, so a late cancel for an earlier one is ignored.
        let generation: UInt64
        /// The statements' cache keys; nil sends a statement unnamed.
        let keys: [StatementKey?]
        /// Whether the statements go in one pipeline ended by one Sync.
        let pipelined: Bool
        /// Whether this is a script run on the thread pool.
        let script: Bool
        /// The commands sent, whose results arrive in order.
        var commands: [Command] = []
        /// The command whose results are being read.
        var cursor = 0
        /// Each statement's first outcome.
        var outcomes: [Result<PostgresRows, PostgresError>?]
        /// Whether a cached statement whose plan went stale was prepared again once already.
        var retried = false
        /// Whether the caller asked to cancel.
        var cancelRequested = false
        /// Whether the commands went in pipeline mode (a single new statement prepares and runs in one).
        var sentPipelined = false

        /// The first statement's failure, if one failed.
        var firstFailure: PostgresError? {
            for case .failure(let error)? in outcomes { return error }
            return nil
        }
    }

    private(set) var phase = Phase.idle
    private(set) var operation: Operation?
    private(set) var generation: UInt64 = 0
    /// Prepared statements of this session, by SQL text and parameter types.
    private(set) var statements: [StatementKey: String] = [:]
    /// Names prepared statements uniquely for the life of the session.
    private var statementCounter = 0
    /// How many statements to prepare and keep; 0 sends every statement unnamed.
    let statementCacheCapacity: Int
    /// Whether the session sits inside a transaction block (or a failed one).
    private(set) var inTransaction = false
    /// Set when the connection goes back to the pool idle: its next operation first checks its health.
    var needsHealthCheck = false
    /// Set by `close` while an operation is in flight: the connection closes when it ends.
    private var closing = false
    /// Set when that operation ended: the owner frees the handle now (`takeDueClose`).
    private var closeDue = false

    init(statementCacheCapacity: Int) {
        self.statementCacheCapacity = statementCacheCapacity
    }

    /// Whether the connection is unusable.
    var isBroken: Bool { phase == .broken }

    // MARK: - The caller's events

    /// Submits statements with their cache keys (SQL text and parameter types); `pipelined` sends them in
    /// one round trip ended by one Sync.
    /// - Returns: the operation's generation (for `cancel`), or nil with the failure when the connection
    ///   cannot take it (closed, broken, or busy).
    mutating func submit(_ keys: [StatementKey], pipelined: Bool) -> Result<UInt64, PostgresError> {
        submit(keys: keys.map { cacheKey($0) }, pipelined: pipelined, script: false)
    }

    /// Submits a script, which runs on the thread pool with libpq's blocking calls.
    mutating func submitScript() -> Result<UInt64, PostgresError> {
        submit(keys: [], pipelined: false, script: true)
    }

    private mutating func submit(keys: [StatementKey?], pipelined: Bool, script: Bool) -> Result<UInt64, PostgresError> {
        if closing { return .failure(PostgresError(code: .clientClosed, message: "the connection is closed")) }
        switch phase {
        case .closed: return .failure(PostgresError(code: .clientClosed, message: "the connection is closed"))
        case .broken: return .failure(PostgresError(code: .connectionLost, message: "the connection is broken"))
        case .queued, .sending, .awaitingResults, .cancelling:
            return .failure(PostgresError(code: .invalidQuery, message: "the connection is running another operation"))
        case .idle:
            generation &+= 1
            operation = Operation(
                generation: generation, keys: keys, pipelined: pipelined, script: script,
                outcomes: Array(repeating: nil, count: keys.count))
            phase = .queued
            return .success(generation)
        }
    }

    /// The caller's task was cancelled while its operation `generation` was in flight.
    /// - Returns: `.sendCancel` when the operation is running on the server; nothing when it has not started
    ///   (it then ends as cancelled without being sent) or is over.
    mutating func cancel(_ generation: UInt64) -> Action {
        guard var operation, operation.generation == generation, !operation.cancelRequested else { return .none }
        operation.cancelRequested = true
        self.operation = operation
        switch phase {
        case .sending, .awaitingResults:
            phase = .cancelling
            return .sendCancel
        case .idle, .queued, .cancelling, .broken, .closed:
            return .none
        }
    }

    /// The connection was reopened (after `.reset`, or before a script): the new session has no prepared
    /// statement and no transaction; a failed reopen breaks the connection.
    mutating func didReset(succeeded: Bool) {
        statements = [:]
        statementCounter = 0
        inTransaction = false
        if !succeeded { markBroken() }
    }

    /// The connection is being closed; nothing may run on it afterwards. An operation in flight still
    /// ends (its caller is resumed); the connection is closed when it does.
    /// - Returns: whether the connection is closed now (nothing was in flight), so its handle may be freed.
    @discardableResult
    mutating func close() -> Bool {
        if operation == nil {
            phase = .closed
            return true
        }
        closing = true
        return false
    }

    /// Whether a close deferred by `close()` became due when the operation in flight ended; true once.
    mutating func takeDueClose() -> Bool {
        defer { closeDue = false }
        return closeDue
    }

    /// Marks the connection unusable (a rollback failed, a reset failed).
    mutating func markBroken() {
        if phase != .closed { phase = .broken }
    }

    // MARK: - The event loop's events

    /// The event loop (or the thread pool) takes the queued operation. `healthy` says whether the idle
    /// connection's socket is still open (checked only when `needsHealthCheck` was set).
    mutating func start(healthy: Bool) -> Action {
        guard phase == .queued, var operation else { return .none }
        needsHealthCheck = false
        if closing {
            return finish(.failure(PostgresError(code: .clientClosed, message: "the connection is closed")))
        }
        if operation.cancelRequested {
            return finish(.failure(Self.cancelled))
        }
        if operation.script {
            // A script's runner checks the connection itself, on the thread pool, where it may reopen it.
            phase = .awaitingResults
            return .runScript
        }
        if !healthy {
            self.operation = nil
            phase = .idle
            return .reset
        }
        var commands: [Command] = []
        var preparedHere: [StatementKey: String] = [:]
        for (index, key) in operation.keys.enumerated() {
            guard let key else {
                commands.append(.execute(statement: index))
                continue
            }
            if let name = statements[key] ?? preparedHere[key] {
                commands.append(.executePrepared(statement: index, name: name))
            } else {
                statementCounter += 1
                let name = "jb\(statementCounter)"
                preparedHere[key] = name
                commands += [.prepare(statement: index, name: name), .executePrepared(statement: index, name: name)]
            }
        }
        // One command goes alone; a new statement's prepare and execution go in one pipeline, one round trip.
        operation.sentPipelined = operation.pipelined || commands.count > 1
        operation.commands = commands
        operation.cursor = 0
        self.operation = operation
        phase = .sending
        return .send(commands, pipelined: operation.sentPipelined)
    }

    /// Every command was handed to libpq.
    mutating func sent() -> Action {
        switch phase {
        case .sending, .cancelling: return .flush
        case .idle, .queued, .awaitingResults, .broken, .closed: return .none
        }
    }

    /// libpq flushed what it could; `pending` when output is still queued.
    mutating func flushed(pending: Bool) -> Action {
        switch phase {
        case .sending, .awaitingResults:
            phase = pending ? .sending : .awaitingResults
            return .wait(writable: pending)
        case .cancelling:
            return .wait(writable: pending)
        case .idle, .queued, .broken, .closed:
            return .none
        }
    }

    /// A result for the current command.
    mutating func received(_ result: Received) -> Action {
        // The operation is changed in place (`operation!`): a copy would copy its arrays too.
        guard isRunning, let cursor = operation?.cursor, let commands = operation?.commands else { return .none }
        guard cursor < commands.count else { return .read }
        let command = commands[cursor]
        switch (result, command) {
        case (.aborted, _):
            break
        case (.outcome(.success), .prepare(_, let name)):
            // Recorded now: the statement exists on the server even if a later command fails.
            if let key = operation!.keys[command.statement] { statements[key] = name }
        case (.outcome(let outcome), _):
            if operation!.outcomes[command.statement] == nil { operation!.outcomes[command.statement] = outcome }
        }
        return .read
    }

    /// All results of the current command were read (libpq returned no more). Without a pipeline this ends
    /// the operation; in one, the Sync does.
    mutating func commandEnded(inTransaction: Bool, connectionOK: Bool) -> Action {
        guard isRunning, var operation else { return .none }
        if operation.sentPipelined {
            self.operation!.cursor += 1
            return .read
        }
        self.inTransaction = inTransaction
        if !connectionOK { return fail(operation.firstFailure ?? Self.lost("the server closed the connection")) }
        let outcome = operation.outcomes[0] ?? .failure(PostgresError(code: .server, message: "the server sent no result"))
        if case .failure(let error) = outcome, let key = operation.keys[0], statements[key] != nil, !operation.retried,
            !inTransaction, !operation.cancelRequested, error.sqlState == "0A000" || error.sqlState == "26000"
        {
            // The schema changed under a cached plan, or the session lost it: prepare again, once.
            statements[key] = nil
            operation.retried = true
            operation.outcomes = [nil]
            self.operation = operation
            phase = .queued
            return start(healthy: true)
        }
        return finish(outcome.map { [$0] })
    }

    /// The pipeline's Sync arrived: the operation ends with every statement's rows, or the first failure.
    /// `exitedPipeline` says whether libpq left pipeline mode.
    mutating func synced(inTransaction: Bool, connectionOK: Bool, exitedPipeline: Bool) -> Action {
        guard isRunning, let operation, operation.sentPipelined else { return .none }
        self.inTransaction = inTransaction
        if !connectionOK || !exitedPipeline {
            return fail(operation.firstFailure ?? Self.lost("the connection could not leave pipeline mode"))
        }
        var rows: [PostgresRows] = []
        rows.reserveCapacity(operation.outcomes.count)
        for (index, outcome) in operation.outcomes.enumerated() {
            switch outcome {
            case .success(let result): rows.append(result)
            case .failure(let error): return finish(.failure(error))
            case nil:
                let error = PostgresError(
                    code: .server, message: "the server sent no result for statement \(index + 1) of the pipeline")
                return finish(.failure(error))
            }
        }
        return finish(.success(rows))
    }

    /// libpq holds no complete result and needs more input: flush what is queued, then wait.
    mutating func inputNeeded() -> Action {
        isRunning ? .flush : .none
    }

    /// The script run by `.runScript` ended.
    mutating func scriptFinished(_ outcome: Result<Void, PostgresError>, inTransaction: Bool, connectionOK: Bool) -> Action {
        guard isRunning, operation?.script == true else { return .none }
        self.inTransaction = inTransaction
        if !connectionOK, case .failure(let error) = outcome { return fail(error) }
        return finish(outcome.map { [] })
    }

    /// Sending, flushing or reading failed. With the connection still up the failure is the server's (the
    /// operation fails, the connection stays usable unless a pipeline was cut short); otherwise it is lost.
    mutating func failed(_ message: String, connectionOK: Bool) -> Action {
        guard isRunning || phase == .queued, let operation else { return .none }
        let error = PostgresError(code: connectionOK ? .server : .connectionLost, message: message)
        if !connectionOK || operation.sentPipelined { return fail(error) }
        return finish(.failure(error))
    }

    // MARK: - Helpers

    /// The statement whose results are being read (for error messages), if any.
    var currentStatement: Int? {
        guard let operation, operation.cursor < operation.commands.count else { return nil }
        return operation.commands[operation.cursor].statement
    }

    private var isRunning: Bool {
        phase == .sending || phase == .awaitingResults || phase == .cancelling
    }

    /// The key to cache `key` under, or nil to send it unnamed (cache off or full).
    private func cacheKey(_ key: StatementKey) -> StatementKey? {
        guard statementCacheCapacity > 0 else { return nil }
        return statements[key] != nil || statements.count < statementCacheCapacity ? key : nil
    }

    private mutating func finish(_ outcome: Result<[PostgresRows], PostgresError>) -> Action {
        operation = nil
        if closing {
            closing = false
            closeDue = true
            phase = .closed
        } else if phase != .closed && phase != .broken {
            // A server error that says this session is no use any more (`dropsConnection`: a demoted
            // primary, a shutdown) breaks the connection, so the pool replaces it.
            if case .failure(let error) = outcome, error.dropsConnection {
                phase = .broken
            } else {
                phase = .idle
            }
        }
        return .finish(outcome)
    }

    private mutating func fail(_ error: PostgresError) -> Action {
        operation = nil
        if closing {
            closing = false
            closeDue = true
            phase = .closed
        } else if phase != .closed {
            phase = .broken
        }
        return .finish(.failure(error))
    }

    private static func lost(_ message: String) -> PostgresError {
        PostgresError(code: .connectionLost, message: message)
    }

    static let cancelled = PostgresError(
        code: .server, message: "canceling statement due to user request", sqlState: .queryCanceled)
}

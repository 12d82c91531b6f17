import CLibPQ
import Foundation

extension PostgresConnection {
    /// What the event loop does next with a connection.
    enum LoopStep {
        /// Wait until the socket is readable (and writable, when output is still queued).
        case wait(socket: Int32, writable: Bool)
        /// The operation finished; its caller was resumed.
        case done
    }

    /// The statements of the operation in flight and the caller waiting for their rows: set by the caller
    /// before it hands the connection to the event loop, taken by the loop when the machine says `finish`.
    struct Waiting {
        let queries: [PostgresQuery]
        let continuation: UnsafeContinuation<[PostgresRows], any Error>
    }

    /// How the event loop's poller watches the connection's socket, when it keeps it registered between
    /// statements (epoll). Touched only by the thread that owns the connection's input and output at the time.
    struct LoopRegistration {
        /// The socket registered: a reset connection has a new one, even under the same number.
        var socket: Int32
        /// Whether writability is watched too.
        var writable: Bool
    }

    /// Raised when an idle connection turned out to be closed by the server: the caller resets it on the
    /// thread pool and runs the operation again.
    struct NeedsReset: Error {}

    /// What `readTLSBuffer` found.
    enum TLSBufferRead {
        /// Nothing waits in the TLS layer: wait for the socket.
        case none
        /// Input was read: parse again.
        case read
        /// Reading failed; libpq's error message says why.
        case failed
    }

    // MARK: - The loop thread (and, for `loopStart`, the thread that asks for the statement)

    /// Starts the submitted operation (after the idle health check) and says what to wait for.
    func loopStart() -> LoopStep {
        perform(
            event { machine in
                let healthy = machine.needsHealthCheck ? socketLooksOpen() : true
                return machine.start(healthy: healthy)
            })
    }

    /// Handles readiness of the socket: reads input, reports results, sends queued output.
    func loopEvent(readable: Bool, writable: Bool) -> LoopStep {
        if readable && PQconsumeInput(handle) == 0 { return perform(failure()) }
        return perform(.read)
    }

    /// Fails the operation in flight with a connection error.
    func loopFail(_ message: String) -> LoopStep {
        let connectionOK = PQstatus(handle) == CONNECTION_OK
        return perform(event { $0.failed(oneLine(message), connectionOK: connectionOK) })
    }

    /// Runs `body` on the state machine under the connection's lock.
    func event<Result>(_ body: (inout ConnectionStateMachine) -> Result) -> Result {
        execution.withLock { body(&machine) }
    }

    /// Whether an idle connection is still open: nothing to read, and libpq sees it connected.
    func socketLooksOpen() -> Bool {
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0 && PQstatus(handle) == CONNECTION_OK
    }

    /// Performs the machine's actions, feeding back what each did, until the loop must wait or the operation ended.
    private func perform(_ first: ConnectionStateMachine.Action) -> LoopStep {
        var action = first
        while true {
            switch action {
            case .send(let commands, let pipelined):
                action = send(commands, pipelined: pipelined)
            case .flush:
                switch PQflush(handle) {
                case 0: action = event { $0.flushed(pending: false) }
                case 1: action = event { $0.flushed(pending: true) }
                default: action = failure()
                }
            case .wait(let writable):
                return .wait(socket: PQsocket(handle), writable: writable)
            case .read:
                action = readResults()
            case .finish(let outcome):
                resume(with: outcome.mapError { $0 })
                closeIfDone()
                return .done
            case .reset:
                resume(with: .failure(NeedsReset()))
                closeIfDone()
                return .done
            case .runScript, .sendCancel, .none:
                return .done
            }
        }
    }

    private func resume(with outcome: Result<[PostgresRows], any Error>) {
        let waiting = self.waiting
        self.waiting = nil
        waiting?.continuation.resume(with: outcome)
    }

    /// Hands `commands` to libpq (in pipeline mode, with a Sync, when `pipelined`).
    private func send(_ commands: [ConnectionStateMachine.Command], pipelined: Bool) -> ConnectionStateMachine.Action {
        guard let queries = waiting?.queries else { return .none }
        if pipelined && PQenterPipelineMode(handle) != 1 { return failure() }
        for command in commands {
            let query = queries[command.statement]
            let bindings = query.bindings
            let sent: Int32
            switch command {
            case .prepare(_, let name):
                sent = PQsendPrepare(handle, name, query.sql, Int32(bindings.count), bindings.types)
            case .executePrepared(_, let name):
                sent = withParameterValues(bindings) { values, lengths, formats in
                    PQsendQueryPrepared(handle, name, Int32(bindings.count), values, lengths, formats, 1)
                }
            case .execute:
                sent = withParameterValues(bindings) { values, lengths, formats in
                    PQsendQueryParams(handle, query.sql, Int32(bindings.count), bindings.types, values, lengths, formats, 1)
                }
            }
            guard sent == 1 else { return failure() }
        }
        if pipelined && PQpipelineSync(handle) != 1 { return failure() }
        return event { $0.sent() }
    }

    /// Reports every result libpq holds to the machine; when it needs more input, says so.
    private func readResults() -> ConnectionStateMachine.Action {
        while true {
            while PQisBusy(handle) == 0 {
                guard let result = PQgetResult(handle) else {
                    let inTransaction = PQtransactionStatus(handle) != PQTRANS_IDLE
                    let connectionOK = PQstatus(handle) == CONNECTION_OK
                    let action = event { $0.commandEnded(inTransaction: inTransaction, connectionOK: connectionOK) }
                    if case .read = action { continue }
                    return action
                }
                defer { PQclear(result) }
                let action: ConnectionStateMachine.Action
                switch PQresultStatus(result) {
                case PGRES_PIPELINE_SYNC:
                    let exited = PQexitPipelineMode(handle) == 1
                    let inTransaction = PQtransactionStatus(handle) != PQTRANS_IDLE
                    let connectionOK = PQstatus(handle) == CONNECTION_OK
                    action = event {
                        $0.synced(inTransaction: inTransaction, connectionOK: connectionOK, exitedPipeline: exited)
                    }
                case PGRES_PIPELINE_ABORTED:
                    action = event { $0.received(.aborted) }
                default:
                    let outcome = Result { () throws(PostgresError) in try makeRows(result, query: nil) }
                    let queries = waiting?.queries
                    action = event { machine in
                        guard case .failure(var error) = outcome, let statement = machine.currentStatement, let queries else {
                            return machine.received(.outcome(outcome))
                        }
                        error.query = queries[statement].sql
                        return machine.received(.outcome(.failure(error)))
                    }
                }
                if case .read = action { continue }
                return action
            }
            switch readTLSBuffer() {
            case .none: return event { $0.inputNeeded() }
            case .read: continue
            case .failed: return failure()
            }
        }
    }

    /// Reports libpq's last error to the machine.
    private func failure() -> ConnectionStateMachine.Action {
        let message = oneLine(String(cString: PQerrorMessage(handle)))
        let connectionOK = PQstatus(handle) == CONNECTION_OK
        return event { $0.failed(message, connectionOK: connectionOK) }
    }

    /// Reads what the connection's TLS layer holds decrypted, before the loop waits for the socket.
    ///
    /// A TLS record larger than the room libpq gave one read (PostgreSQL 17 and later send 16 KiB records
    /// for large messages) leaves its rest inside OpenSSL. The socket then has nothing to report, so waiting
    /// on it would wait for ever for data that is already here (the hang other drivers met).
    func readTLSBuffer() -> TLSBufferRead {
        guard jiebang_tls_pending(handle) > 0 else { return .none }
        return PQconsumeInput(handle) == 1 ? .read : .failed
    }
}

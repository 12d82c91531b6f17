import CLibPQ
import Foundation

extension PostgresConnection {
    /// What the event loop does next with a connection.
    enum LoopStep {
        /// Wait until the socket is readable (and writable, when output is still queued).
        case wait(socket: Int32, writable: Bool)
        /// The statement finished; its continuation was resumed.
        case done
    }

    /// The statement a connection hands to the event loop, and where it stands.
    struct LoopOperation {
        enum Stage {
            /// Preparing the statement `name`; the execution follows.
            case preparing(name: String)
            /// Executing; results arrive.
            case executing
        }

        let query: PostgresQuery
        let key: StatementKey?
        let generation: UInt64
        var stage: Stage = .executing
        var outcome: Result<PostgresRows, PostgresError>?
        var retried = false
        let continuation: UnsafeContinuation<PostgresRows, any Error>
    }

    /// Raised when an idle connection turned out to be closed by the server: the caller resets
    /// it on the thread pool and runs the statement again.
    struct NeedsReset: Error {}

    // MARK: - Loop thread only

    /// Sends the pending statement (after the idle health check) and says what to wait for.
    func loopStart() -> LoopStep {
        guard var operation = loopOperation else { return .done }
        if needsHealthCheck {
            needsHealthCheck = false
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 0) != 0 || PQstatus(handle) != CONNECTION_OK {
                loopOperation = nil
                operation.continuation.resume(throwing: NeedsReset())
                return .done
            }
        }
        do {
            try startRunning(operation.generation)
        } catch {
            return loopFinish(.failure(error))
        }
        let query = operation.query
        let bindings = query.bindings
        let sent: Int32
        if let key = operation.key, let name = statements[key] {
            operation.stage = .executing
            sent = withParameterValues(bindings) { values, lengths, formats in
                PQsendQueryPrepared(handle, name, Int32(bindings.count), values, lengths, formats, 1)
            }
        } else if operation.key != nil {
            statementCounter += 1
            let name = "jb\(statementCounter)"
            operation.stage = .preparing(name: name)
            sent = PQsendPrepare(handle, name, query.sql, Int32(bindings.count), bindings.types)
        } else {
            operation.stage = .executing
            sent = withParameterValues(bindings) { values, lengths, formats in
                PQsendQueryParams(handle, query.sql, Int32(bindings.count), bindings.types, values, lengths, formats, 1)
            }
        }
        loopOperation = operation
        guard sent == 1 else { return loopFail(String(cString: PQerrorMessage(handle))) }
        return loopFlush()
    }

    /// Handles readiness of the socket: sends queued output, reads input, collects results.
    func loopEvent(readable: Bool, writable: Bool) -> LoopStep {
        if writable {
            let step = loopFlush()
            if case .done = step { return step }
        }
        if readable && PQconsumeInput(handle) == 0 {
            return loopFail(String(cString: PQerrorMessage(handle)))
        }
        while PQisBusy(handle) == 0 {
            guard let result = PQgetResult(handle) else {
                return loopStatementEnded()
            }
            defer { PQclear(result) }
            guard loopOperation?.outcome == nil else { continue }
            do {
                let rows = try makeRows(result, query: loopOperation?.query.sql)
                if case .preparing = loopOperation?.stage {
                    // The prepare's own result carries no rows; the execution's will.
                    continue
                }
                loopOperation?.outcome = .success(rows)
            } catch {
                loopOperation?.outcome = .failure(error)
            }
        }
        return .wait(socket: PQsocket(handle), writable: false)
    }

    /// Fails the pending statement with a connection error.
    func loopFail(_ message: String) -> LoopStep {
        let code: PostgresError.Code = PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
        return loopFinish(.failure(PostgresError(code: code, message: oneLine(message))))
    }

    private func loopFlush() -> LoopStep {
        switch PQflush(handle) {
        case 0: return .wait(socket: PQsocket(handle), writable: false)
        case 1: return .wait(socket: PQsocket(handle), writable: true)
        default: return loopFail(String(cString: PQerrorMessage(handle)))
        }
    }

    /// All results of one sent command were read: go on to the execution, retry, or finish.
    private func loopStatementEnded() -> LoopStep {
        guard var operation = loopOperation else { return .done }
        inTransaction = PQtransactionStatus(handle) != PQTRANS_IDLE
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
        if case .preparing(let name) = operation.stage {
            if case .failure = operation.outcome {
                return loopFinish(operation.outcome!)
            }
            if let key = operation.key { statements[key] = name }
            loopOperation = operation
            return loopStart()
        }
        let outcome = operation.outcome ?? .failure(PostgresError(code: .server, message: "the server sent no result"))
        if case .failure(let error) = outcome, let key = operation.key, statements[key] != nil, !operation.retried,
            !inTransaction, error.sqlState == "0A000" || error.sqlState == "26000"
        {
            // The schema changed under a cached plan, or the session lost it: prepare again once.
            statements[key] = nil
            operation.retried = true
            operation.outcome = nil
            loopOperation = operation
            return loopStart()
        }
        return loopFinish(outcome)
    }

    private func loopFinish(_ outcome: Result<PostgresRows, PostgresError>) -> LoopStep {
        guard let operation = loopOperation else { return .done }
        loopOperation = nil
        finishRunningWithoutWaiting()
        operation.continuation.resume(with: outcome.mapError { $0 })
        return .done
    }
}

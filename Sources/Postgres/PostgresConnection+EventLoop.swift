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

    /// Statements sent together in one round trip (libpq's pipeline mode) and ended by one Sync:
    /// a transaction's BEGIN with its first statement, its last statement with COMMIT.
    ///
    /// After a statement fails, the server skips the rest up to the Sync; an explicit transaction
    /// is then left failed, to be rolled back.
    struct PipelineOperation {
        /// One protocol command sent, whose results arrive in order.
        struct Command {
            /// The index of the statement it belongs to.
            let statement: Int
            /// When the command prepares the statement: the name and the cache key to record on success.
            let prepares: (name: String, key: StatementKey)?
        }

        let queries: [PostgresQuery]
        let generation: UInt64
        var commands: [Command] = []
        /// The command whose results are being read.
        var cursor = 0
        var outcomes: [Result<PostgresRows, PostgresError>?]
        let continuation: UnsafeContinuation<[PostgresRows], any Error>

        init(queries: [PostgresQuery], generation: UInt64, continuation: UnsafeContinuation<[PostgresRows], any Error>) {
            self.queries = queries
            self.generation = generation
            self.outcomes = Array(repeating: nil, count: queries.count)
            self.continuation = continuation
        }

        /// The command whose results are being read, or nil past the last one.
        var current: Command? { cursor < commands.count ? commands[cursor] : nil }

        /// Keeps a statement's first outcome (an error stays once recorded).
        mutating func record(_ outcome: Result<PostgresRows, PostgresError>, for statement: Int) {
            if outcomes[statement] == nil { outcomes[statement] = outcome }
        }
    }

    /// Raised when an idle connection turned out to be closed by the server: the caller resets
    /// it on the thread pool and runs the statement again.
    struct NeedsReset: Error {}

    // MARK: - Loop thread only

    /// Whether an idle connection is still open: nothing to read, and libpq sees it connected.
    private func idleConnectionIsHealthy() -> Bool {
        guard needsHealthCheck else { return true }
        needsHealthCheck = false
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0 && PQstatus(handle) == CONNECTION_OK
    }

    /// Sends the pending statement (after the idle health check) and says what to wait for.
    func loopStart() -> LoopStep {
        if pipelineOperation != nil { return pipelineStart() }
        guard var operation = loopOperation else { return .done }
        if !idleConnectionIsHealthy() {
            loopOperation = nil
            operation.continuation.resume(throwing: NeedsReset())
            return .done
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
        if pipelineOperation != nil { return pipelineEvent(readable: readable, writable: writable) }
        if writable {
            let step = loopFlush()
            if case .done = step { return step }
        }
        if readable && PQconsumeInput(handle) == 0 {
            return loopFail(String(cString: PQerrorMessage(handle)))
        }
        reading: while true {
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
            switch readTLSBuffer() {
            case .none: break reading
            case .read: continue reading
            case .failed: return loopFail(String(cString: PQerrorMessage(handle)))
            }
        }
        // A message larger than the socket's buffers goes out over many events: keep waiting for
        // writability until libpq's output queue is empty, not only for the first rearm.
        return loopFlush()
    }

    /// What `readTLSBuffer` found.
    enum TLSBufferRead {
        /// Nothing waits in the TLS layer: wait for the socket.
        case none
        /// Input was read: parse again.
        case read
        /// Reading failed; libpq's error message says why.
        case failed
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

    /// Fails the pending statement with a connection error.
    func loopFail(_ message: String) -> LoopStep {
        if pipelineOperation != nil { return pipelineFail(message) }
        let code: PostgresError.Code = PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
        return loopFinish(.failure(PostgresError(code: code, message: oneLine(message))))
    }

    /// Sends what libpq still holds and waits for the socket: readable always (the server may answer or
    /// fail early), writable too while output remains queued (`PQflush` returned 1).
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

    // MARK: - Pipelines (loop thread only)

    /// Sends every statement of the pipeline, then the Sync, and says what to wait for.
    private func pipelineStart() -> LoopStep {
        guard var operation = pipelineOperation else { return .done }
        if !idleConnectionIsHealthy() {
            pipelineOperation = nil
            operation.continuation.resume(throwing: NeedsReset())
            return .done
        }
        do {
            try startRunning(operation.generation)
        } catch {
            return pipelineFinish(.failure(error))
        }
        guard PQenterPipelineMode(handle) == 1 else { return pipelineFail(String(cString: PQerrorMessage(handle))) }
        var preparedHere: [StatementKey: String] = [:]
        for (index, query) in operation.queries.enumerated() {
            let bindings = query.bindings
            let key = statementKey(for: query)
            var sent: Int32 = 1
            var name: String?
            if let key {
                if let known = statements[key] ?? preparedHere[key] {
                    name = known
                } else {
                    statementCounter += 1
                    let fresh = "jb\(statementCounter)"
                    sent = PQsendPrepare(handle, fresh, query.sql, Int32(bindings.count), bindings.types)
                    operation.commands.append(.init(statement: index, prepares: (fresh, key)))
                    preparedHere[key] = fresh
                    name = fresh
                }
            }
            if sent == 1 {
                sent = withParameterValues(bindings) { values, lengths, formats in
                    if let name {
                        PQsendQueryPrepared(handle, name, Int32(bindings.count), values, lengths, formats, 1)
                    } else {
                        PQsendQueryParams(
                            handle, query.sql, Int32(bindings.count), bindings.types, values, lengths, formats, 1)
                    }
                }
            }
            operation.commands.append(.init(statement: index, prepares: nil))
            guard sent == 1 else {
                pipelineOperation = operation
                return pipelineFail(String(cString: PQerrorMessage(handle)))
            }
        }
        pipelineOperation = operation
        guard PQpipelineSync(handle) == 1 else { return pipelineFail(String(cString: PQerrorMessage(handle))) }
        return loopFlush()
    }

    /// Reads the pipeline's results as they arrive; the Sync's result ends it.
    private func pipelineEvent(readable: Bool, writable: Bool) -> LoopStep {
        if writable {
            let step = loopFlush()
            if case .done = step { return step }
        }
        if readable && PQconsumeInput(handle) == 0 {
            return pipelineFail(String(cString: PQerrorMessage(handle)))
        }
        // The operation is changed in place: a copy per result would copy its arrays too.
        reading: while true {
            while PQisBusy(handle) == 0, pipelineOperation != nil {
                guard let result = PQgetResult(handle) else {
                    // The end of one command's results.
                    pipelineOperation?.cursor += 1
                    continue
                }
                defer { PQclear(result) }
                let status = PQresultStatus(result)
                if status == PGRES_PIPELINE_SYNC { return pipelineEnded() }
                // A command skipped after an earlier failure: its statement is reported as not run.
                guard status != PGRES_PIPELINE_ABORTED, let command = pipelineOperation?.current else { continue }
                do {
                    let rows = try makeRows(result, query: pipelineOperation?.queries[command.statement].sql)
                    if let prepared = command.prepares {
                        statements[prepared.key] = prepared.name
                    } else {
                        pipelineOperation?.record(.success(rows), for: command.statement)
                    }
                } catch {
                    pipelineOperation?.record(.failure(error), for: command.statement)
                }
            }
            switch readTLSBuffer() {
            case .none: break reading
            case .read: continue reading
            case .failed: return pipelineFail(String(cString: PQerrorMessage(handle)))
            }
        }
        return loopFlush()
    }

    /// The Sync's result arrived: leave pipeline mode and report the first failure, or every statement's rows.
    private func pipelineEnded() -> LoopStep {
        guard let operation = pipelineOperation else { return .done }
        if PQexitPipelineMode(handle) != 1 { isBroken = true }
        inTransaction = PQtransactionStatus(handle) != PQTRANS_IDLE
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
        var rows: [PostgresRows] = []
        rows.reserveCapacity(operation.outcomes.count)
        for (index, outcome) in operation.outcomes.enumerated() {
            switch outcome {
            case .success(let result): rows.append(result)
            case .failure(let error): return pipelineFinish(.failure(error))
            case nil:
                return pipelineFinish(
                    .failure(
                        PostgresError(
                            code: .server, message: "the server sent no result for statement \(index + 1) of the pipeline")))
            }
        }
        return pipelineFinish(.success(rows))
    }

    /// Fails the pipeline with a connection error; the connection cannot be trusted afterwards.
    private func pipelineFail(_ message: String) -> LoopStep {
        let code: PostgresError.Code = PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost
        isBroken = true
        return pipelineFinish(.failure(PostgresError(code: code, message: oneLine(message))))
    }

    private func pipelineFinish(_ outcome: Result<[PostgresRows], PostgresError>) -> LoopStep {
        guard let operation = pipelineOperation else { return .done }
        pipelineOperation = nil
        finishRunningWithoutWaiting()
        operation.continuation.resume(with: outcome.mapError { $0 })
        return .done
    }
}

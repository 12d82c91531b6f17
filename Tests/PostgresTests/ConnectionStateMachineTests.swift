import Testing

@testable import Postgres

/// The connection's state machine, event by event, without a server.
@Suite("The connection's state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine

    static let select = StatementKey(sql: "SELECT $1", types: [20])
    static let insert = StatementKey(sql: "INSERT INTO bids VALUES ($1)", types: [20])

    static func rows(_ tag: String = "SELECT 1") -> PostgresRows {
        PostgresRows(
            columns: [], commandTag: tag, affectedRows: 1, storage: .init(rowCount: 0, columnCount: 0) { _, _ in nil })
    }

    static func serverError(_ state: SQLState, _ message: String = "failed") -> PostgresError {
        PostgresError(code: .server, message: message, sqlState: state)
    }

    /// Submits `keys`, starts them, and reports them sent and flushed: the machine then awaits results.
    /// - Returns: the operation's generation.
    @discardableResult
    static func run(_ keys: [StatementKey], pipelined: Bool = false, on machine: inout Machine) throws -> UInt64 {
        let generation = try machine.submit(keys, pipelined: pipelined).get()
        _ = machine.start(healthy: true)
        _ = machine.sent()
        _ = machine.flushed(pending: false)
        return generation
    }

    /// A machine that ran `key` once, so its prepared name is cached.
    static func warmed(with key: StatementKey = select) -> Machine {
        var machine = Machine(statementCacheCapacity: 8)
        _ = machine.submit([key], pipelined: false)
        _ = machine.start(healthy: true)
        _ = machine.sent()
        _ = machine.flushed(pending: false)
        _ = machine.received(.outcome(.success(rows())))
        _ = machine.commandEnded(inTransaction: false, connectionOK: true)
        _ = machine.received(.outcome(.success(rows())))
        _ = machine.commandEnded(inTransaction: false, connectionOK: true)
        _ = machine.synced(inTransaction: false, connectionOK: true, exitedPipeline: true)
        return machine
    }

    /// The phases a machine can be brought to, with a machine in each.
    static func machines() -> [(Machine.Phase, Machine)] {
        // Warmed: the statement runs alone, not in a pipeline, so a Sync is out of place in every phase.
        var idle = warmed()
        var queued = idle
        _ = queued.submit([select], pipelined: false)
        var sending = queued
        _ = sending.start(healthy: true)
        var awaiting = sending
        _ = awaiting.sent()
        _ = awaiting.flushed(pending: false)
        var cancelling = awaiting
        _ = cancelling.cancel(cancelling.generation)
        var broken = awaiting
        _ = broken.failed("connection reset", connectionOK: false)
        var closed = Machine(statementCacheCapacity: 8)
        closed.close()
        idle.needsHealthCheck = false
        return [
            (.idle, idle), (.queued, queued), (.sending, sending), (.awaitingResults, awaiting), (.cancelling, cancelling),
            (.broken, broken), (.closed, closed),
        ]
    }

    @Test("A new statement is prepared and executed in one pipeline; its name is cached and the next run executes it alone")
    func newStatementPreparesInOneRoundTrip() throws {
        var machine = Machine(statementCacheCapacity: 8)
        let generation = try machine.submit([Self.select], pipelined: false).get()
        #expect(generation == 1)
        #expect(machine.phase == .queued)
        guard case .send(let commands, let pipelined) = machine.start(healthy: true) else {
            Issue.record("expected commands to send")
            return
        }
        #expect(commands == [.prepare(statement: 0, name: "jb1"), .executePrepared(statement: 0, name: "jb1")])
        #expect(pipelined)
        #expect(machine.phase == .sending)
        guard case .flush = machine.sent() else {
            Issue.record("expected a flush")
            return
        }
        guard case .wait(writable: true) = machine.flushed(pending: true) else {
            Issue.record("expected to wait for writability")
            return
        }
        #expect(machine.phase == .sending)
        guard case .wait(writable: false) = machine.flushed(pending: false) else {
            Issue.record("expected to wait")
            return
        }
        #expect(machine.phase == .awaitingResults)
        guard case .read = machine.received(.outcome(.success(Self.rows("")))) else {
            Issue.record("expected to read on")
            return
        }
        #expect(machine.statements[Self.select] == "jb1")
        guard case .read = machine.commandEnded(inTransaction: false, connectionOK: true) else {
            Issue.record("read on")
            return
        }
        guard case .read = machine.received(.outcome(.success(Self.rows("SELECT 7")))) else {
            Issue.record("read on")
            return
        }
        guard case .read = machine.commandEnded(inTransaction: false, connectionOK: true) else {
            Issue.record("read on")
            return
        }
        guard case .flush = machine.inputNeeded() else {
            Issue.record("expected a flush while input is missing")
            return
        }
        guard case .finish(.success(let rows)) = machine.synced(inTransaction: false, connectionOK: true, exitedPipeline: true) else {
            Issue.record("expected the rows")
            return
        }
        #expect(rows.map(\.commandTag) == ["SELECT 7"])
        #expect(machine.phase == .idle)
        #expect(machine.operation == nil)

        _ = try machine.submit([Self.select], pipelined: false).get()
        guard case .send(let again, let pipelinedAgain) = machine.start(healthy: true) else {
            Issue.record("expected commands")
            return
        }
        #expect(again == [.executePrepared(statement: 0, name: "jb1")])
        #expect(!pipelinedAgain)
    }

    @Test("A cached statement ends with its command (no Sync), and its rows finish the operation")
    func cachedStatementFinishesAtCommandEnd() throws {
        var machine = Self.warmed()
        try Self.run([Self.select], on: &machine)
        _ = machine.received(.outcome(.success(Self.rows("SELECT 1"))))
        guard case .finish(.success(let rows)) = machine.commandEnded(inTransaction: true, connectionOK: true) else {
            Issue.record("expected the rows")
            return
        }
        #expect(rows.count == 1)
        #expect(machine.inTransaction)
        #expect(machine.phase == .idle)
    }

    @Test("A cached plan gone stale (0A000 or 26000) outside a transaction is prepared again once; a second failure is reported")
    func stalePlanIsPreparedAgainOnce() throws {
        for state: SQLState in ["0A000", "26000"] {
            var machine = Self.warmed()
            try Self.run([Self.select], on: &machine)
            _ = machine.received(.outcome(.failure(Self.serverError(state))))
            guard case .send(let commands, true) = machine.commandEnded(inTransaction: false, connectionOK: true) else {
                Issue.record("expected the statement to be prepared again")
                return
            }
            #expect(commands == [.prepare(statement: 0, name: "jb2"), .executePrepared(statement: 0, name: "jb2")])
            #expect(machine.operation?.retried == true)
            _ = machine.sent()
            _ = machine.flushed(pending: false)
            _ = machine.received(.outcome(.success(Self.rows(""))))
            _ = machine.commandEnded(inTransaction: false, connectionOK: true)
            _ = machine.received(.outcome(.failure(Self.serverError(state, "again"))))
            _ = machine.commandEnded(inTransaction: false, connectionOK: true)
            guard case .finish(.failure(let error)) = machine.synced(inTransaction: false, connectionOK: true, exitedPipeline: true)
            else {
                Issue.record("expected the failure")
                return
            }
            #expect(error.message == "again")
        }
    }

    @Test("Inside a transaction a stale plan is not retried: the transaction is failed already")
    func stalePlanInTransactionFails() throws {
        var machine = Self.warmed()
        try Self.run([Self.select], on: &machine)
        _ = machine.received(.outcome(.failure(Self.serverError("0A000"))))
        guard case .finish(.failure(let error)) = machine.commandEnded(inTransaction: true, connectionOK: true) else {
            Issue.record("expected the failure")
            return
        }
        #expect(error.sqlState == "0A000")
        #expect(machine.phase == .idle)
    }

    @Test("In a pipeline the first failure is reported, skipped commands count as not run, and the connection stays usable")
    func pipelineReportsFirstFailure() throws {
        var machine = Self.warmed(with: Self.insert)
        _ = try machine.submit([Self.insert, Self.insert, Self.select], pipelined: true).get()
        guard case .send(let commands, true) = machine.start(healthy: true) else {
            Issue.record("expected a pipeline")
            return
        }
        #expect(
            commands == [
                .executePrepared(statement: 0, name: "jb1"), .executePrepared(statement: 1, name: "jb1"),
                .prepare(statement: 2, name: "jb2"), .executePrepared(statement: 2, name: "jb2"),
            ])
        _ = machine.sent()
        _ = machine.flushed(pending: false)
        _ = machine.received(.outcome(.success(Self.rows("INSERT 0 1"))))
        _ = machine.commandEnded(inTransaction: true, connectionOK: true)
        #expect(machine.currentStatement == 1)
        _ = machine.received(.outcome(.failure(Self.serverError(.uniqueViolation))))
        _ = machine.commandEnded(inTransaction: true, connectionOK: true)
        _ = machine.received(.aborted)
        _ = machine.commandEnded(inTransaction: true, connectionOK: true)
        _ = machine.received(.aborted)
        _ = machine.commandEnded(inTransaction: true, connectionOK: true)
        guard case .finish(.failure(let error)) = machine.synced(inTransaction: true, connectionOK: true, exitedPipeline: true) else {
            Issue.record("expected the failure")
            return
        }
        #expect(error.sqlState == .uniqueViolation)
        #expect(machine.phase == .idle)
        #expect(machine.inTransaction)
        #expect(machine.statements[Self.select] == nil)
    }

    @Test("A pipeline whose statement got no result fails naming it; a lost connection at the Sync breaks the connection")
    func pipelineMissingResultAndLostConnection() throws {
        var machine = Self.warmed()
        try Self.run([Self.select, Self.select], pipelined: true, on: &machine)
        _ = machine.received(.outcome(.success(Self.rows())))
        _ = machine.commandEnded(inTransaction: false, connectionOK: true)
        guard case .finish(.failure(let error)) = machine.synced(inTransaction: false, connectionOK: true, exitedPipeline: true) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.message.contains("statement 2 of the pipeline"))

        try Self.run([Self.select, Self.select], pipelined: true, on: &machine)
        guard case .finish(.failure(let lost)) = machine.synced(inTransaction: false, connectionOK: false, exitedPipeline: false) else {
            Issue.record("expected a failure")
            return
        }
        #expect(lost.code == .connectionLost)
        #expect(machine.phase == .broken)
        #expect(machine.isBroken)
    }

    @Test("A read failure with the connection up fails the statement only; with it down, or in a pipeline, it breaks the connection")
    func failuresBreakOnlyWhatTheyMust() throws {
        var statement = Self.warmed()
        _ = try statement.submit([Self.select], pipelined: false).get()
        _ = statement.start(healthy: true)
        guard case .finish(.failure(let error)) = statement.failed("could not send", connectionOK: true) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .server)
        #expect(statement.phase == .idle)

        var lost = Self.warmed()
        _ = try lost.submit([Self.select], pipelined: false).get()
        _ = lost.start(healthy: true)
        _ = lost.sent()
        _ = lost.flushed(pending: false)
        guard case .finish(.failure(let lostError)) = lost.failed("server closed the connection unexpectedly", connectionOK: false) else {
            Issue.record("expected a failure")
            return
        }
        #expect(lostError.code == .connectionLost)
        #expect(lost.phase == .broken)
        guard case .failure(let refused) = lost.submit([Self.select], pipelined: false) else {
            Issue.record("a broken connection must refuse work")
            return
        }
        #expect(refused.code == .connectionLost)

        var pipeline = Machine(statementCacheCapacity: 8)
        _ = try pipeline.submit([Self.select], pipelined: true).get()
        _ = pipeline.start(healthy: true)
        _ = pipeline.failed("could not send", connectionOK: true)
        #expect(pipeline.phase == .broken)
    }

    @Test("The server's own error on a connection that dropped is kept (its SQLSTATE says why), and the connection breaks")
    func lostConnectionKeepsServerError() throws {
        var machine = Self.warmed()
        try Self.run([Self.select], on: &machine)
        _ = machine.received(.outcome(.failure(Self.serverError(.adminShutdown, "terminating connection"))))
        guard case .finish(.failure(let error)) = machine.commandEnded(inTransaction: false, connectionOK: false) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.sqlState == .adminShutdown)
        #expect(machine.phase == .broken)
    }

    @Test("Cancelling before the loop starts the operation ends it as cancelled without sending anything")
    func cancelBeforeStart() throws {
        var machine = Machine(statementCacheCapacity: 8)
        let generation = try machine.submit([Self.select], pipelined: false).get()
        guard case .none = machine.cancel(generation) else {
            Issue.record("nothing to send before the start")
            return
        }
        guard case .finish(.failure(let error)) = machine.start(healthy: true) else {
            Issue.record("expected a cancel")
            return
        }
        #expect(error.sqlState == .queryCanceled)
        #expect(machine.phase == .idle)
    }

    @Test("Cancelling a running operation sends one cancel request; its results are still read to the end, and a stale plan is not retried")
    func cancelWhileRunning() throws {
        var machine = Self.warmed()
        let generation = try Self.run([Self.select], on: &machine)
        guard case .sendCancel = machine.cancel(generation) else {
            Issue.record("expected a cancel request")
            return
        }
        #expect(machine.phase == .cancelling)
        guard case .none = machine.cancel(generation) else {
            Issue.record("a second cancel sends nothing")
            return
        }
        guard case .none = machine.cancel(generation - 1) else {
            Issue.record("a cancel for an earlier operation is ignored")
            return
        }
        guard case .wait = machine.flushed(pending: false) else {
            Issue.record("still waiting for results")
            return
        }
        #expect(machine.phase == .cancelling)
        _ = machine.received(.outcome(.failure(Self.serverError("0A000"))))
        guard case .finish(.failure(let error)) = machine.commandEnded(inTransaction: false, connectionOK: true) else {
            Issue.record("expected the failure")
            return
        }
        #expect(error.sqlState == "0A000")
        #expect(machine.phase == .idle)
        guard case .none = machine.cancel(generation) else {
            Issue.record("a cancel after the end sends nothing")
            return
        }
    }

    @Test("An idle connection found closed is reset: the operation goes back to its caller, and the new session forgets its statements")
    func unhealthyConnectionIsReset() throws {
        var machine = Self.warmed()
        machine.needsHealthCheck = true
        _ = try machine.submit([Self.select], pipelined: false).get()
        guard case .reset = machine.start(healthy: false) else {
            Issue.record("expected a reset")
            return
        }
        #expect(machine.phase == .idle)
        #expect(!machine.needsHealthCheck)
        machine.didReset(succeeded: true)
        #expect(machine.statements.isEmpty)
        guard
            case .send(let commands, true) = { () -> Machine.Action in
                _ = try? machine.submit([Self.select], pipelined: false).get()
                return machine.start(healthy: true)
            }()
        else {
            Issue.record("expected the statement to be prepared again")
            return
        }
        #expect(commands.first == .prepare(statement: 0, name: "jb1"))
        machine.didReset(succeeded: false)
        #expect(machine.phase == .broken)
    }

    @Test("A script runs on the thread pool: start says so whatever the socket, and its end reports the transaction state")
    func scriptRunsOnThePool() throws {
        var machine = Machine(statementCacheCapacity: 8)
        let generation = try machine.submitScript().get()
        guard case .runScript = machine.start(healthy: false) else {
            Issue.record("expected the script to run")
            return
        }
        #expect(machine.phase == .awaitingResults)
        guard case .sendCancel = machine.cancel(generation) else {
            Issue.record("a running script can be cancelled")
            return
        }
        guard case .finish(.success(let rows)) = machine.scriptFinished(.success(()), inTransaction: true, connectionOK: true) else {
            Issue.record("expected the end")
            return
        }
        #expect(rows.isEmpty)
        #expect(machine.inTransaction)
        #expect(machine.phase == .idle)
    }

    @Test("With the cache off every statement goes unnamed; with it full, new statements go unnamed and cached ones stay prepared")
    func cacheCapacity() throws {
        var off = Machine(statementCacheCapacity: 0)
        _ = try off.submit([Self.select], pipelined: false).get()
        guard case .send([.execute(statement: 0)], false) = off.start(healthy: true) else {
            Issue.record("expected unnamed")
            return
        }

        var full = Self.warmed()
        for index in 0..<7 {
            let key = StatementKey(sql: "SELECT \(index)", types: [])
            full = {
                var machine = full
                _ = machine.submit([key], pipelined: false)
                _ = machine.start(healthy: true)
                _ = machine.sent()
                _ = machine.received(.outcome(.success(Self.rows(""))))
                _ = machine.commandEnded(inTransaction: false, connectionOK: true)
                _ = machine.received(.outcome(.success(Self.rows())))
                _ = machine.commandEnded(inTransaction: false, connectionOK: true)
                _ = machine.synced(inTransaction: false, connectionOK: true, exitedPipeline: true)
                return machine
            }()
        }
        #expect(full.statements.count == 8)
        _ = try full.submit([StatementKey(sql: "SELECT 99", types: [])], pipelined: false).get()
        guard case .send([.execute(statement: 0)], false) = full.start(healthy: true) else {
            Issue.record("expected unnamed")
            return
        }
        _ = full.failed("stop", connectionOK: true)
        _ = try full.submit([Self.select], pipelined: false).get()
        guard case .send([.executePrepared(statement: 0, name: "jb1")], false) = full.start(healthy: true) else {
            Issue.record("expected the cached statement")
            return
        }
    }

    @Test("Every event in every phase is defined: out of place it returns nothing or a failure, and never leaves the phase inconsistent")
    func everyEventInEveryPhase() throws {
        for (phase, machine) in Self.machines() {
            #expect(machine.phase == phase)
            let running = [.sending, .awaitingResults, .cancelling].contains(phase)

            var submitted = machine
            let submission = submitted.submit([Self.select], pipelined: false)
            #expect((try? submission.get()) != nil || phase != .idle, "submit in \(phase)")
            if phase != .idle {
                #expect(submitted.phase == phase, "a refused submission leaves \(phase) as it was")
            }

            var started = machine
            let start = started.start(healthy: true)
            if phase == .queued {
                guard case .send = start else {
                    Issue.record("start in \(phase)")
                    return
                }
            } else {
                guard case .none = start else {
                    Issue.record("start in \(phase) must do nothing")
                    return
                }
                #expect(started.phase == phase)
            }

            var sent = machine
            if case .flush = sent.sent() { #expect(phase == .sending || phase == .cancelling) }

            var flushed = machine
            if case .wait = flushed.flushed(pending: false) { #expect(running) } else { #expect(!running) }

            var received = machine
            if case .read = received.received(.outcome(.success(Self.rows()))) { #expect(running) } else { #expect(!running) }

            var ended = machine
            let end = ended.commandEnded(inTransaction: false, connectionOK: true)
            if case .finish = end { #expect(running) }
            if !running {
                guard case .none = end else {
                    Issue.record("commandEnded in \(phase) must do nothing")
                    return
                }
            }

            var synced = machine
            guard case .none = synced.synced(inTransaction: false, connectionOK: true, exitedPipeline: true) else {
                Issue.record("a Sync without a pipeline in \(phase) must do nothing")
                return
            }

            var needing = machine
            if case .flush = needing.inputNeeded() { #expect(running) } else { #expect(!running) }

            var failing = machine
            let failure = failing.failed("broken pipe", connectionOK: false)
            if running || phase == .queued {
                guard case .finish(.failure) = failure else {
                    Issue.record("a failure in \(phase) must end the operation")
                    return
                }
                #expect(failing.phase == .broken)
            } else {
                guard case .none = failure else {
                    Issue.record("a failure in \(phase) has nothing to end")
                    return
                }
                #expect(failing.phase == phase)
            }

            var script = machine
            guard case .none = script.scriptFinished(.success(()), inTransaction: false, connectionOK: true) else {
                Issue.record("no script runs in \(phase)")
                return
            }

            var cancelled = machine
            let cancel = cancelled.cancel(machine.generation)
            if phase == .sending || phase == .awaitingResults {
                guard case .sendCancel = cancel else {
                    Issue.record("cancel in \(phase)")
                    return
                }
                #expect(cancelled.phase == .cancelling)
            } else {
                guard case .none = cancel else {
                    Issue.record("cancel in \(phase) sends nothing")
                    return
                }
            }

            var closing = machine
            closing.close()
            if running || phase == .queued {
                // The operation in flight still ends and resumes its caller; then the connection is closed.
                #expect(closing.phase == phase)
                let dueEarly = closing.takeDueClose()
                #expect(!dueEarly)
                guard case .finish = closing.failed("closed", connectionOK: true) else {
                    Issue.record("the operation in flight in \(phase) must still end")
                    return
                }
                let due = closing.takeDueClose()
                let dueAgain = closing.takeDueClose()
                #expect(due, "the deferred close is due once the operation in \(phase) ended")
                #expect(!dueAgain, "and only once")
            } else {
                let due = closing.takeDueClose()
                #expect(!due, "closing with nothing in flight in \(phase) closes at once")
            }
            #expect(closing.phase == .closed)
            guard case .failure(let error) = closing.submit([Self.select], pipelined: false) else {
                Issue.record("a closed connection must refuse work")
                return
            }
            #expect(error.code == .clientClosed)
        }
    }
}

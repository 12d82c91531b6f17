import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// A pool of PostgreSQL connections.
///
/// Connections open on demand up to `maximumConnections`; a task that finds
/// none free waits up to `acquireTimeout`. A connection that broke is dropped
/// and replaced, and an idle one that the server closed (restart, terminated
/// backend) is reopened before use, so a server restart never needs an
/// application restart. As a `Service`, `run()` keeps `minimumConnections`
/// open and closes every connection at shutdown.
public final class PostgresClient: Sendable, Service {
    /// The configuration the pool was made with.
    public let configuration: PostgresConfiguration
    let logger: Logger
    let threads: PostgresThreadPool
    /// The event loops, each driving the connections opened in its turn (see `PostgresConfiguration.eventLoops`).
    let loops: [PostgresEventLoop]
    /// The loop `executor` hands out next.
    private let nextExecutor = Atomic<UInt>(0)
    private let state: Mutex<State>

    private struct Waiter {
        let id: UInt64
        /// When the waiter gives up (`acquireTimeout` after it began to wait).
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Lease, any Error>
        /// The event loop the waiting task runs on, if it runs on one.
        let home: PostgresEventLoop?
        /// How often a later waiter was served before this one, while it stood first.
        var passedOver = 0

        /// Whether a connection of `loop` suits this waiter: it runs on no loop, or on that one.
        func suits(_ loop: PostgresEventLoop) -> Bool { home == nil || home === loop }
    }

    private enum Lease: Sendable {
        case connection(PostgresConnection)
        case open
    }

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
        var nextConnectionID = 0
        var closed = false
        /// Whether a task is sleeping until the first waiter's deadline.
        var expiring = false

        /// Takes an idle connection, one of `home`'s when there is one: a task running on an event loop
        /// then sends and reads on its own thread.
        mutating func takeIdle(preferring home: PostgresEventLoop?) -> PostgresConnection? {
            if let home, idle.count > 1, let index = idle.lastIndex(where: { $0.loop === home }) {
                idle.swapAt(index, idle.count - 1)
            }
            return idle.popLast()
        }

        /// Takes the waiter a released connection of `loop` goes to: the first, unless it runs on another
        /// loop and one of the next few runs on this one. The first is passed over at most
        /// `maximumPassOvers` times, so it waits only a few releases longer, even when its loop has no connection.
        mutating func takeWaiter(for loop: PostgresEventLoop) -> Waiter {
            if waiters[0].suits(loop) || waiters[0].passedOver >= Self.maximumPassOvers {
                return waiters.removeFirst()
            }
            guard let index = waiters.prefix(16).firstIndex(where: { $0.suits(loop) }) else { return waiters.removeFirst() }
            waiters[0].passedOver += 1
            return waiters.remove(at: index)
        }

        /// How often the first waiter may be passed over for one running on the released connection's loop.
        static let maximumPassOvers = 4
    }

    /// Creates a pool. No connection is opened until one is needed or `run()` starts.
    public init(configuration: PostgresConfiguration, logger: Logger = Logger(label: "jiebang.postgres")) {
        self.configuration = configuration
        self.logger = logger
        self.threads = PostgresThreadPool(
            maximumThreads: configuration.maximumConnections + 2, name: configuration.name)
        self.loops = (0..<max(1, configuration.eventLoops)).map { index in
            PostgresEventLoop(
                name: configuration.eventLoops > 1 ? "\(configuration.name)-\(index)" : configuration.name,
                poller: configuration.poller)
        }
        self.state = Mutex(State())
    }

    deinit {
        threads.shutdown()
        for loop in loops { loop.shutdown() }
    }

    /// The executor of a thread that reads this client's results: each read hands out the next of the
    /// client's event loops, so tasks given one each spread over them.
    ///
    /// A task that prefers it (`withTaskExecutorPreference(client.executor) { … }`) runs there, and
    /// leases the connections of that loop first: each result resumes it on the thread that read it, and
    /// its next statement leaves from that thread, so a round trip wakes no other thread. One thread
    /// serves every task of its loop: keep blocking calls and long computations off it.
    public var executor: any TaskExecutor {
        loops[Int(nextExecutor.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(loops.count))]
    }

    /// The event loop whose thread is running the caller, if any.
    private var currentLoop: PostgresEventLoop? {
        loops.count > 1 ? loops.first { $0.onLoopThread } : nil
    }

    /// Opens the minimum connections, then waits for shutdown and closes the pool.
    public func run() async throws {
        do {
            try await withConnections(count: configuration.minimumConnections) { _ in }
        } catch {
            logger.warning("could not open the minimum connections", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
        await close()
    }

    /// Closes idle connections and fails every waiting and later acquire.
    public func close() async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.idle = []
                state.waiters = []
            }
            state.open -= state.idle.count
            return (state.idle, state.waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: PostgresError(code: .clientClosed, message: "the client was closed"))
        }
        for connection in idle { await connection.close() }
    }

    /// Leases a connection for the duration of `body`.
    public func withConnection<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await acquire()
        do {
            let result = try await body(connection)
            await release(connection)
            return result
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs one query on a pooled connection.
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await withConnection { try await $0.query(query) }
    }

    /// Runs one statement on a pooled connection and returns the rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await withConnection { try await $0.execute(query) }
    }

    /// Runs `body` in a transaction on a pooled connection: commit on return, rollback on throw.
    public func withTransaction<Result: Sendable>(
        isolation: PostgresIsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            try await connection.withTransaction(isolation: isolation, readOnly: readOnly, body)
        }
    }

    /// Runs `body` in a transaction, and runs it again when PostgreSQL reports a
    /// serialization failure (40001) or a deadlock (40P01).
    ///
    /// `body` must be safe to repeat: everything it wrote was rolled back.
    /// - Parameters:
    ///   - maxAttempts: how many times to try in all. Default 5.
    public func withRetryingTransaction<Result: Sendable>(
        isolation: PostgresIsolationLevel = .serializable,
        maxAttempts: Int = 5,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await withTransaction(isolation: isolation, body)
            } catch let error as PostgresError where error.isTransient && attempt < maxAttempts {
                logger.debug(
                    "retrying transaction", metadata: ["attempt": "\(attempt)", "sqlstate": "\(error.sqlState?.code ?? "")"])
                let ceiling = 10 * (1 << min(attempt, 6))
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...ceiling)))
                attempt += 1
            }
        }
    }

    /// Leases `count` connections at once (used to warm the pool).
    func withConnections(count: Int, _ body: ([PostgresConnection]) async throws -> Void) async throws {
        var leased: [PostgresConnection] = []
        do {
            for _ in 0..<count { leased.append(try await acquire()) }
            try await body(leased)
        } catch {
            for connection in leased { await release(connection) }
            throw error
        }
        for connection in leased { await release(connection) }
    }

    // MARK: - Leasing

    private func acquire() async throws -> PostgresConnection {
        // The common case, an idle connection, needs no continuation.
        let home = currentLoop
        let idle = state.withLock { state -> PostgresConnection? in
            state.closed ? nil : state.takeIdle(preferring: home)
        }
        if let idle { return idle }
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        let deadline = ContinuousClock.now.advanced(by: configuration.acquireTimeout)
        let lease: Lease = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                enum Decision {
                    case resume(Lease)
                    case fail(PostgresError)
                    case wait(startExpiring: Bool)
                }
                let decision = state.withLock { state -> Decision in
                    if state.closed { return .fail(PostgresError(code: .clientClosed, message: "the client was closed")) }
                    if let connection = state.takeIdle(preferring: home) { return .resume(.connection(connection)) }
                    if state.open < configuration.maximumConnections {
                        state.open += 1
                        return .resume(.open)
                    }
                    state.waiters.append(Waiter(id: id, deadline: deadline, continuation: continuation, home: home))
                    defer { state.expiring = true }
                    return .wait(startExpiring: !state.expiring)
                }
                switch decision {
                case .resume(let lease): continuation.resume(returning: lease)
                case .fail(let error): continuation.resume(throwing: error)
                case .wait(let startExpiring):
                    if startExpiring { Task { [weak self] in await self?.expireWaiters() } }
                }
            }
        } onCancel: {
            failWaiter(id, with: CancellationError())
        }
        switch lease {
        case .connection(let connection):
            return connection
        case .open:
            let connectionID = state.withLock { state in
                state.nextConnectionID += 1
                return state.nextConnectionID
            }
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: connectionID, threads: threads,
                    loop: loops[(connectionID - 1) % loops.count])
                logger.debug("opened connection", metadata: ["db.connection": "\(connectionID)"])
                return connection
            } catch {
                openFailed()
                throw error
            }
        }
    }

    /// Fails waiters whose deadline passed, sleeping until the next one's, while there are waiters.
    ///
    /// One task serves every waiter: they wait the same time in arrival order, so the first waiter's
    /// deadline is the earliest (a timer per waiter would cost a task for every request that waits).
    private func expireWaiters() async {
        while true {
            let (expired, next) = state.withLock { state -> ([Waiter], ContinuousClock.Instant?) in
                let now = ContinuousClock.now
                let count = state.waiters.prefix { $0.deadline <= now }.count
                let expired = Array(state.waiters.prefix(count))
                state.waiters.removeFirst(count)
                let next = state.waiters.first?.deadline
                if next == nil { state.expiring = false }
                return (expired, next)
            }
            let timeout = configuration.acquireTimeout
            for waiter in expired {
                waiter.continuation.resume(
                    throwing: PostgresError(
                        code: .acquireTimeout,
                        message: "no database connection became free within \(timeout) "
                            + "(all \(configuration.maximumConnections) are in use)"))
            }
            guard let next else { return }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }

    private func failWaiter(_ id: UInt64, with error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// A connection could not be opened: free its slot, and let one waiter try in its place.
    private func openFailed() {
        let waiter = state.withLock { state -> Waiter? in
            if !state.waiters.isEmpty && !state.closed { return state.waiters.removeFirst() }
            state.open -= 1
            return nil
        }
        waiter?.continuation.resume(returning: .open)
    }

    private func release(_ connection: PostgresConnection) async {
        // One look at the machine in the common case: no transaction left open.
        var usable = connection.event { machine -> Bool? in
            if machine.inTransaction && !machine.isBroken { return nil }
            machine.needsHealthCheck = true
            return !machine.isBroken
        }
        if usable == nil {
            await connection.rollback()
            usable = connection.event { machine in
                machine.needsHealthCheck = true
                return !machine.isBroken
            }
        }
        let reusable = usable ?? false
        enum Decision {
            case handOver(Waiter, Lease)
            case keep, discard
        }
        let decision = state.withLock { state -> Decision in
            if !reusable || state.closed {
                if !state.closed, !state.waiters.isEmpty {
                    return .handOver(state.waiters.removeFirst(), .open)
                }
                state.open -= 1
                return .discard
            }
            if !state.waiters.isEmpty { return .handOver(state.takeWaiter(for: connection.loop), .connection(connection)) }
            state.idle.append(connection)
            return .keep
        }
        switch decision {
        case .handOver(let waiter, let lease):
            if case .open = lease { await connection.close() }
            waiter.continuation.resume(returning: lease)
        case .discard:
            logger.debug("dropped connection", metadata: ["db.connection": "\(connection.id)"])
            await connection.close()
        case .keep:
            break
        }
    }

    /// How many connections are open and idle, for tests and metrics.
    public var statistics: (open: Int, idle: Int, waiting: Int) {
        state.withLock { ($0.open, $0.idle.count, $0.waiters.count) }
    }
}

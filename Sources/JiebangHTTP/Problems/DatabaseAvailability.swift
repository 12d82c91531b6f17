import Logging
import Postgres
import Synchronization

/// Whether the database can be reached, as requests find out: the first request that finds it away logs
/// that once (error), a probe then asks it every `probeInterval` until it answers, and logs once that it is
/// back (warning, so an operator who reads warnings sees both). Requests in between answer 503 (`ProblemMiddleware`) without a log line each.
final class DatabaseAvailability: Sendable {
    private enum State {
        case reachable
        case unreachable(since: ContinuousClock.Instant)
    }

    private let database: PostgresClient
    private let logger: Logger
    private let probeInterval: Duration
    private let state = Mutex(State.reachable)

    init(database: PostgresClient, logger: Logger, probeInterval: Duration = .milliseconds(500)) {
        self.database = database
        self.logger = logger
        self.probeInterval = probeInterval
    }

    /// Whether a request found the database away and it has not answered since.
    var isUnreachable: Bool {
        state.withLock {
            if case .unreachable = $0 { return true }
            return false
        }
    }

    /// A request's statement failed because the database is away (`PostgresError.isOutage`).
    /// - Returns: whether this is the first such failure since it was last reachable (it is logged then).
    @discardableResult
    func reportOutage(_ error: PostgresError) -> Bool {
        let first = state.withLock { state -> Bool in
            guard case .reachable = state else { return false }
            state = .unreachable(since: .now)
            return true
        }
        guard first else { return false }
        logger.error(
            "database unreachable: requests answer 503 until it is back",
            metadata: ["error": "\(error)", "db.sqlstate": "\(error.sqlState?.code ?? error.code.description)"])
        let database = database
        let interval = probeInterval
        Task { [self] in
            while true {
                try? await Task.sleep(for: interval)
                do {
                    _ = try await database.query("SELECT 1")
                    markReachable()
                    return
                } catch let error as PostgresError where error.code == .clientClosed {
                    return
                } catch {
                    continue
                }
            }
        }
        return true
    }

    private func markReachable() {
        let since = state.withLock { state -> ContinuousClock.Instant? in
            guard case .unreachable(let since) = state else { return nil }
            state = .reachable
            return since
        }
        guard let since else { return }
        logger.warning(
            "database is back", metadata: ["unreachable.seconds": "\((ContinuousClock.now - since).components.seconds)"])
    }
}

public import Foundation
import Jiebang
import JobQueue
public import Logging
public import Postgres
public import ServiceLifecycle
import Synchronization

/// Collects the uses of access tokens whose `last_used_at` stamp is due and writes them in batches.
///
/// A request then only reads its token: a deadline rush of first uses writes one statement per
/// interval instead of one transaction per request. A stamp reaches the database within
/// `flushInterval`; on graceful shutdown the service writes what it holds after the HTTP server has
/// stopped (it runs after the database pool and before the server, so it stops between them). A crash
/// loses at most the stamps of the last interval, never a token or a revocation.
public final class TokenUseRecorder: Service, Sendable {
    /// How often stamps are written.
    public struct Configuration: Sendable {
        /// How often held stamps are written. Default 1 second.
        public var flushInterval: Duration = .seconds(1)

        /// The defaults.
        public init() {}
    }

    private let database: PostgresClient
    private let configuration: Configuration
    private let logger: Logger
    private let flushFailures = FailureStreak("writing tokens' last-use stamps")
    /// Each token's latest use not yet written.
    private let pending = Mutex<[Int: Date]>([:])

    /// Creates the recorder.
    public init(
        database: PostgresClient, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "jiebang.tokens")
    ) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    /// Holds a use of `tokenID` at `time` until the next write.
    public func record(tokenID: Int, at time: Date = Date()) {
        pending.withLock { uses in
            if let held = uses[tokenID], held >= time { return }
            uses[tokenID] = time
        }
    }

    /// The number of uses held.
    public var held: Int { pending.withLock { $0.count } }

    /// Writes the held uses now. On failure they are held again (a newer use of the same token wins).
    /// - Returns: how many tokens were stamped.
    @discardableResult
    public func flush() async throws -> Int {
        let uses = pending.withLock { uses in
            defer { uses = [:] }
            return uses
        }
        guard !uses.isEmpty else { return 0 }
        do {
            return try await database.withConnection { try await AccountStore.stampUses(uses, on: $0) }
        } catch {
            pending.withLock { held in held.merge(uses) { newer, older in max(newer, older) } }
            throw error
        }
    }

    /// Writes the held uses every `flushInterval`, and once more on graceful shutdown.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.configuration.flushInterval)
                await self.flushLogging()
            }
        }
        await flushLogging()
    }

    /// Logs a failing flush once when failures start and once when they end (a database restart would
    /// otherwise log a line a second).
    private func flushLogging() async {
        do {
            try await flush()
            flushFailures.succeeded(logger: logger)
        } catch {
            flushFailures.failed(error, logger: logger, metadata: ["held": "\(held)"])
        }
    }
}

public import Logging
public import Postgres
public import ServiceLifecycle
import Synchronization

/// One LISTEN connection per process for the workers of every queue: it relays each `NOTIFY` on
/// `JobClient.channel` to the workers of the queue it names, and wakes them all when it (re)connects, since
/// jobs may have arrived while it did not listen. Without it each worker would hold a connection of its own.
///
/// Runs as a service before the workers (`buildWorkerServices`), so it stops after them.
public final class JobWakeups: Service, Sendable {
    private struct Subscriber {
        var queue: String
        var continuation: AsyncStream<Void>.Continuation
    }

    private let client: PostgresClient
    private let logger: Logger
    private let listenFailures = FailureStreak("listening for jobs (the workers poll meanwhile)")
    private let retryInterval: Duration
    private let subscribers = Mutex((next: 0, all: [Int: Subscriber](), finished: false))

    /// Creates the relay.
    /// - Parameters:
    ///   - retryInterval: how long to wait before listening again after the connection failed (the
    ///     workers poll meanwhile).
    public init(client: PostgresClient, logger: Logger = Logger(label: "jiebang.jobs"), retryInterval: Duration = .seconds(1)) {
        self.client = client
        self.logger = logger
        self.retryInterval = retryInterval
    }

    /// Wake-ups for the workers of `queue`: one element whenever a job may be ready there (pending ones
    /// merge into one). The stream ends when the relay stops or the iterating task is cancelled.
    func subscribe(queue: String) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = subscribers.withLock { state -> Int? in
            guard !state.finished else { return nil }
            state.next += 1
            state.all[state.next] = Subscriber(queue: queue, continuation: continuation)
            return state.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.all.removeValue(forKey: id) }
        }
        return stream
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.listen()
        }
        let all = subscribers.withLock { state in
            state.finished = true
            defer { state.all = [:] }
            return Array(state.all.values)
        }
        for subscriber in all { subscriber.continuation.finish() }
    }

    private func listen() async {
        while !Task.isCancelled {
            do {
                let notifications = try await client.listen(on: JobClient.channel)
                listenFailures.succeeded(logger: logger)
                wake { _ in true }
                for try await notification in notifications {
                    wake { $0 == notification.payload }
                }
            } catch {
                if Task.isCancelled { return }
                listenFailures.failed(error, logger: logger)
                try? await Task.sleep(for: retryInterval)
            }
        }
    }

    private func wake(_ matches: (String) -> Bool) {
        let continuations = subscribers.withLock { state in state.all.values.filter { matches($0.queue) }.map(\.continuation) }
        for continuation in continuations { continuation.yield() }
    }
}

import CLibPQ
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The notifications arriving on one dedicated connection, as an `AsyncSequence`.
///
/// A thread of its own waits on the connection's socket with `poll`, so no
/// time is spent sleeping or polling the server. The sequence ends with an
/// error if the connection breaks; notifications sent meanwhile are lost, so
/// a listener should also poll for the state it cares about after reconnecting.
/// Ending iteration (or cancelling the iterating task) closes the connection.
public struct PostgresNotifications: AsyncSequence, Sendable {
    public typealias Element = PostgresNotification
    let stream: AsyncThrowingStream<PostgresNotification, any Error>

    public func makeAsyncIterator() -> AsyncThrowingStream<PostgresNotification, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

extension PostgresClient {
    /// Opens a dedicated connection that listens on `channels` and returns its notifications.
    ///
    /// `LISTEN` is in effect when this returns, so a notification sent afterwards is delivered.
    /// - Throws: `PostgresError` if the connection or `LISTEN` fails.
    public func listen(on channels: String...) async throws -> PostgresNotifications {
        try await listen(on: channels)
    }

    /// Opens a dedicated connection that listens on `channels` and returns its notifications.
    /// Behind a transaction pooler it listens on `directConnectionString`.
    /// - Throws: `PostgresError` (`.invalidQuery`) behind a transaction pooler without a direct connection string.
    public func listen(on channels: [String]) async throws -> PostgresNotifications {
        guard let session = configuration.sessionConfiguration else {
            throw PostgresError(
                code: .invalidQuery,
                message: "LISTEN needs a session of its own, which a transaction pooler does not keep: set a direct connection string")
        }
        let connection = try await PostgresConnection.connect(
            configuration: session, id: 0, threads: threads, loop: loops[0])
        do {
            for channel in channels {
                try await connection.execute(PostgresQuery(unsafeSQL: "LISTEN \(quoteIdentifier(channel))"))
            }
        } catch {
            await connection.close()
            throw error
        }
        let (stream, continuation) = AsyncThrowingStream<PostgresNotification, any Error>.makeStream(
            bufferingPolicy: .bufferingNewest(10_000))
        let loop = NotificationLoop(connection: connection, continuation: continuation)
        continuation.onTermination = { _ in loop.stop() }
        loop.start()
        return PostgresNotifications(stream: stream)
    }

    /// Sends a notification on `channel` (outside any transaction).
    public func notify(_ channel: String, payload: String = "") async throws {
        try await execute("SELECT pg_notify(\(channel), \(payload))")
    }
}

/// Double-quotes an identifier for SQL, doubling embedded quotes.
func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// The thread that waits on a listening connection's socket and a wake-up pipe.
final class NotificationLoop: @unchecked Sendable {
    private let connection: PostgresConnection
    private let continuation: AsyncThrowingStream<PostgresNotification, any Error>.Continuation
    private let wake = WakePipe()

    init(connection: PostgresConnection, continuation: AsyncThrowingStream<PostgresNotification, any Error>.Continuation) {
        self.connection = connection
        self.continuation = continuation
    }

    func start() {
        let thread = Thread { [self] in
            self.run()
        }
        thread.name = "postgres-listen"
        thread.start()
    }

    /// Wakes the thread so that it closes the connection and exits.
    func stop() {
        wake.signal()
    }

    private func run() {
        let outcome = connection.blockingWaitForNotifications(wake: wake.readDescriptor) { notification in
            continuation.yield(notification)
        }
        // Closed after the last use and before the stream ends: the stream's termination handler
        // calls `stop()`, which then writes nothing.
        wake.close()
        Task { await connection.close() }
        switch outcome {
        case .stopped: continuation.finish()
        case .failed(let error): continuation.finish(throwing: error)
        }
    }
}

/// A pipe that wakes a thread blocked in `poll`: signalled at most once, and never after it is closed, so
/// a late signal cannot write into a file that has since been given the same descriptor number.
final class WakePipe: Sendable {
    private let descriptors: (read: Int32, write: Int32)
    private let state = Mutex((closed: false, signalled: false))

    init() {
        var fds: [Int32] = [-1, -1]
        _ = jiebang_pipe_cloexec(&fds)
        descriptors = (fds[0], fds[1])
    }

    /// The end the waiting thread polls.
    var readDescriptor: Int32 { descriptors.read }
    /// The end `signal()` writes to (for tests).
    var writeDescriptor: Int32 { descriptors.write }

    /// Writes one byte, unless it was written already or the pipe is closed.
    func signal() {
        state.withLock { state in
            guard !state.closed, !state.signalled else { return }
            state.signalled = true
            var byte: UInt8 = 1
            _ = write(descriptors.write, &byte, 1)
        }
    }

    /// Closes both ends, once.
    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            closeDescriptor(descriptors.read)
            closeDescriptor(descriptors.write)
        }
    }

    deinit { close() }
}

extension PostgresConnection {
    enum WaitOutcome {
        case stopped
        case failed(PostgresError)
    }
}

import Foundation

/// One thread that drives the statements of every pooled connection of a
/// client with libpq's non-blocking API, waiting on their sockets with the
/// configured `PostgresPoller` (epoll on Linux, poll(2) elsewhere).
///
/// Under load one wait returns many ready sockets, so a statement
/// costs a fraction of a thread wake-up instead of two: this, not the
/// server, is what limits a thread-per-statement client on a small machine.
/// Blocking calls (connecting, resetting, closing, scripts) stay on the
/// client's thread pool; cancel requests on threads of their own.
final class PostgresEventLoop: @unchecked Sendable {
    /// The poller this loop waits with.
    let poller: PostgresPoller
    private let readiness: any SocketReadiness
    private let lock = NSLock()
    private var submissions: [PostgresConnection] = []
    private var wakePending = false
    private var stopped = false
    /// Connections with a statement in flight, by socket (loop thread only).
    private var armed: [Int32: PostgresConnection] = [:]

    init(name: String, poller: PostgresPoller = .platformDefault) {
        self.poller = poller
        readiness = poller.makeReadiness()
        let thread = Thread { [self] in run() }
        thread.name = "\(name)-io"
        thread.start()
    }

    /// Starts the statement `connection` has prepared (see `PostgresConnection.loopStart`).
    func submit(_ connection: PostgresConnection) {
        let wake = lock.withLock {
            submissions.append(connection)
            defer { wakePending = true }
            return !wakePending
        }
        if wake { readiness.wake() }
    }

    /// Stops the thread once nothing is in flight.
    func shutdown() {
        lock.withLock { stopped = true }
        readiness.wake()
    }

    private func run() {
        while true {
            let waited = readiness.wait { socket, readable, writable in
                guard let connection = armed.removeValue(forKey: socket) else { return }
                apply(connection.loopEvent(readable: readable, writable: writable), connection)
            }
            if !waited { break }
            let (started, stop) = lock.withLock {
                defer {
                    submissions.removeAll(keepingCapacity: true)
                    wakePending = false
                }
                return (submissions, stopped)
            }
            for connection in started {
                apply(connection.loopStart(), connection)
            }
            if stop && armed.isEmpty { break }
        }
        readiness.close()
    }

    private func apply(_ step: PostgresConnection.LoopStep, _ connection: PostgresConnection) {
        guard case .wait(let socket, let writable) = step else { return }
        if let error = readiness.arm(socket, writable: writable) {
            apply(connection.loopFail("cannot wait on the connection's socket: errno \(error)"), connection)
            return
        }
        armed[socket] = connection
    }
}

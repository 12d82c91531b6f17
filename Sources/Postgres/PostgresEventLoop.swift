import CLibPQ
import Foundation

/// One thread that drives the statements of every pooled connection of a
/// client with libpq's non-blocking API, waiting on their sockets with epoll.
///
/// Under load one `epoll_wait` returns many ready sockets, so a statement
/// costs a fraction of a thread wake-up instead of two: this, not the
/// server, is what limits a thread-per-statement client on a small machine.
/// Blocking calls (connecting, resetting, closing, scripts) stay on the
/// client's thread pool; cancel requests on threads of their own.
final class PostgresEventLoop: @unchecked Sendable {
    private let epoll: Int32
    private let wakeDescriptor: Int32
    private let lock = NSLock()
    private var submissions: [PostgresConnection] = []
    private var wakePending = false
    private var stopped = false
    /// Connections with a statement in flight, by socket (loop thread only).
    private var armed: [Int32: PostgresConnection] = [:]

    init(name: String) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeDescriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeDescriptor
        _ = epoll_ctl(epoll, EPOLL_CTL_ADD, wakeDescriptor, &event)
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
        if wake { _ = eventfd_write(wakeDescriptor, 1) }
    }

    /// Stops the thread once nothing is in flight.
    func shutdown() {
        lock.withLock { stopped = true }
        _ = eventfd_write(wakeDescriptor, 1)
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let ready = epoll_wait(epoll, &events, Int32(events.count), -1)
            if ready < 0 && errno != EINTR { break }
            for index in 0..<max(0, Int(ready)) {
                let descriptor = events[index].data.fd
                if descriptor == wakeDescriptor {
                    var value: eventfd_t = 0
                    _ = eventfd_read(wakeDescriptor, &value)
                    continue
                }
                guard let connection = armed.removeValue(forKey: descriptor) else { continue }
                let flags = events[index].events
                let step = connection.loopEvent(
                    readable: flags & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0,
                    writable: flags & EPOLLOUT.rawValue != 0)
                apply(step, connection)
            }
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
        close(epoll)
        close(wakeDescriptor)
    }

    private func apply(_ step: PostgresConnection.LoopStep, _ connection: PostgresConnection) {
        guard case .wait(let socket, let writable) = step else { return }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLONESHOT.rawValue | (writable ? EPOLLOUT.rawValue : 0)
        event.data.fd = socket
        if epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) != 0 {
            if epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event) != 0 {
                apply(connection.loopFail("cannot wait on the connection's socket: errno \(errno)"), connection)
                return
            }
        }
        armed[socket] = connection
    }
}

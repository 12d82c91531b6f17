#if os(Linux)
    import CLibPQ
    import Glibc

    /// Readiness with Linux's epoll, edge-triggered, woken by an eventfd.
    ///
    /// A socket is added once and stays: each arrival of input reports it. `EPOLL_CTL_MOD` changes
    /// whether writability is watched, and reports input that is already waiting. Closing a socket
    /// removes it from the set (the kernel does), and the next arm of a reused number adds it again.
    final class EpollReadiness: SocketReadiness, @unchecked Sendable {
        private let epoll: Int32
        private let wakeDescriptor: Int32
        /// The loop thread's buffer for `epoll_wait`.
        private var events = [epoll_event](repeating: epoll_event(), count: 64)

        /// Edge-triggered registrations; epoll_ctl may change the set while another thread waits on it.
        var keepsSockets: Bool { true }

        init() {
            epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
            wakeDescriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.fd = wakeDescriptor
            _ = epoll_ctl(epoll, EPOLL_CTL_ADD, wakeDescriptor, &event)
        }

        func wait(blocking: Bool, _ ready: (Int32, Bool, Bool) -> Void) -> Bool {
            let count = epoll_wait(epoll, &events, Int32(events.count), blocking ? -1 : 0)
            if count < 0 { return errno == EINTR }
            for index in 0..<Int(count) {
                let descriptor = events[index].data.fd
                if descriptor == wakeDescriptor {
                    var value: eventfd_t = 0
                    _ = eventfd_read(wakeDescriptor, &value)
                    continue
                }
                let flags = events[index].events
                ready(
                    descriptor,
                    flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0,
                    flags & EPOLLOUT.rawValue != 0)
            }
            return true
        }

        func arm(_ socket: Int32, writable: Bool) -> Int32? {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue | (writable ? EPOLLOUT.rawValue : 0)
            event.data.fd = socket
            if epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) == 0 { return nil }
            return epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event) == 0 ? nil : errno
        }

        func wake() {
            _ = eventfd_write(wakeDescriptor, 1)
        }

        func close() {
            _ = Glibc.close(epoll)
            _ = Glibc.close(wakeDescriptor)
        }
    }
#endif

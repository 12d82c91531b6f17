import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Readiness with POSIX `poll(2)`, woken by a pipe: what the event loop uses where epoll is
/// missing, and on Linux when `JIEBANG_POSTGRES_POLLER=poll`.
///
/// Each wait passes the wake pipe and every armed socket; a socket reported ready is disarmed, as
/// epoll's one-shot mode does. A wait costs time in the number of armed sockets, which is at most
/// the pool's size.
final class PollReadiness: SocketReadiness, @unchecked Sendable {
    private let wakeRead: Int32
    private let wakeWrite: Int32
    /// Armed sockets and whether each waits for writability too (loop thread only).
    private var armed: [Int32: Bool] = [:]
    /// The loop thread's buffer for `poll`.
    private var descriptors: [pollfd] = []

    /// One-shot, and the armed set is the loop thread's own.
    var keepsSockets: Bool { false }

    init() {
        var fds: [Int32] = [-1, -1]
        _ = jiebang_pipe_cloexec(&fds)
        _ = jiebang_set_nonblocking(fds[0])
        _ = jiebang_set_nonblocking(fds[1])
        (wakeRead, wakeWrite) = (fds[0], fds[1])
    }

    func wait(blocking: Bool, _ ready: (Int32, Bool, Bool) -> Void) -> Bool {
        descriptors.removeAll(keepingCapacity: true)
        descriptors.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
        for (socket, writable) in armed {
            descriptors.append(pollfd(fd: socket, events: Int16(POLLIN) | (writable ? Int16(POLLOUT) : 0), revents: 0))
        }
        let count = poll(&descriptors, nfds_t(descriptors.count), blocking ? -1 : 0)
        if count < 0 { return errno == EINTR }
        if descriptors[0].revents != 0 { drainWakePipe() }
        for descriptor in descriptors.dropFirst() where descriptor.revents != 0 {
            armed[descriptor.fd] = nil
            let events = Int32(descriptor.revents)
            ready(descriptor.fd, events & (POLLIN | POLLERR | POLLHUP | POLLNVAL) != 0, events & POLLOUT != 0)
        }
        return true
    }

    func arm(_ socket: Int32, writable: Bool) -> Int32? {
        guard socket >= 0 else { return EBADF }
        armed[socket] = writable
        return nil
    }

    func wake() {
        var byte: UInt8 = 1
        // A full pipe already holds a wake-up: the write may fail with EAGAIN and lose nothing.
        _ = write(wakeWrite, &byte, 1)
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    func close() {
        closeDescriptor(wakeRead)
        closeDescriptor(wakeWrite)
    }
}

/// close(2), named apart from the methods called `close`.
func closeDescriptor(_ descriptor: Int32) {
    #if canImport(Glibc)
        _ = Glibc.close(descriptor)
    #else
        _ = Darwin.close(descriptor)
    #endif
}

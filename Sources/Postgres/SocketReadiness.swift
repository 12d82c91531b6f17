/// What the event loop waits with: sockets armed for one readiness event each, and a wake-up
/// signal other threads raise. `wait` runs on the loop's thread only; `arm` there too unless
/// `keepsSockets`; `wake` on any.
protocol SocketReadiness: AnyObject, Sendable {
    /// Whether a socket stays registered once armed, edge-triggered: every arrival of input reports it
    /// again, arming it again reports input already waiting, and `arm` may be called from any thread
    /// while the loop waits. Otherwise a socket is armed for one event (one-shot) by the loop thread.
    var keepsSockets: Bool { get }

    /// Waits until the wake-up signal is raised or an armed socket is ready (or, unless `blocking`,
    /// only looks), then calls `ready` for each ready socket, which is disarmed first (it may be
    /// armed again inside `ready`).
    /// - Returns: false when waiting failed for good (the loop then stops).
    func wait(blocking: Bool, _ ready: (_ socket: Int32, _ readable: Bool, _ writable: Bool) -> Void) -> Bool

    /// Arms `socket` for its next readability (errors and hang-ups count as readable), and
    /// writability when `writable`; with `keepsSockets`, registers it or changes what it watches.
    /// - Returns: the errno when the socket cannot be waited on, nil on success.
    func arm(_ socket: Int32, writable: Bool) -> Int32?

    /// Raises the wake-up signal.
    func wake()

    /// Releases the descriptors; nothing may be called afterwards.
    func close()
}

extension PostgresPoller {
    /// A new readiness backend of this kind.
    func makeReadiness() -> any SocketReadiness {
        switch self {
        case .epoll:
            #if os(Linux)
                EpollReadiness()
            #else
                PollReadiness()
            #endif
        case .poll: PollReadiness()
        }
    }
}

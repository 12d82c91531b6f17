import CLibPQ
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One thread that drives the statements of every pooled connection of a
/// client with libpq's non-blocking API, waiting on their sockets with the
/// configured `PostgresPoller` (epoll on Linux, poll(2) elsewhere).
///
/// Under load one wait returns many ready sockets, so a statement
/// costs a fraction of a thread wake-up instead of two: this, not the
/// server, is what limits a thread-per-statement client on a small machine.
/// Blocking calls (connecting, resetting, closing, scripts) stay on the
/// client's thread pool; cancel requests on threads of their own.
///
/// With epoll a statement is sent by the thread that asks for it (`start`),
/// and a socket stays registered, edge-triggered, from its first statement on:
/// the loop thread only reads results, and a statement costs no system call
/// beyond its send, its receive and the idle connection's health check.
/// Input reported while no statement of the socket's waited (a closed
/// connection's last words, or an answer that came before its statement was
/// recorded) is noted and read when the next statement is recorded, so no
/// edge is lost. With poll(2), whose set only the loop thread may change, the
/// loop thread sends too (`submit`) and arms a socket for each wait.
///
/// The loop is also a `TaskExecutor`. A task that prefers it runs on the loop's
/// thread: the result that resumes it was read on that thread, so it goes on
/// at once, sends its next statement from there, and no thread is woken on
/// either side of the round trip.
final class PostgresEventLoop: TaskExecutor, @unchecked Sendable {
    /// The poller this loop waits with.
    let poller: PostgresPoller
    private let readiness: any SocketReadiness
    private let lock = NSLock()
    private var submissions: [PostgresConnection] = []
    /// Jobs of tasks that prefer this executor, run after the ready sockets (guarded by `lock`).
    private var jobs: [UnownedJob] = []
    private var wakePending = false
    private var stopped = false
    /// Whether the thread left its loop: later jobs run on a thread of their own.
    private var exited = false
    /// Connections with a statement in flight, by socket (guarded by `lock`).
    private var armed: [Int32: PostgresConnection] = [:]
    /// Registered sockets reported ready while no statement of theirs waited (guarded by `lock`).
    private var unclaimed: Set<Int32> = []
    /// The loop thread's identity, once it runs (0 before).
    private let threadID = Atomic<UInt>(0)

    init(name: String, poller: PostgresPoller = .platformDefault) {
        self.poller = poller
        readiness = poller.makeReadiness()
        let thread = Thread { [self] in run() }
        thread.name = "\(name)-io"
        thread.start()
    }

    /// Whether the calling thread is the loop's.
    var onLoopThread: Bool {
        threadID.load(ordering: .relaxed) == Self.currentThreadID()
    }

    private static func currentThreadID() -> UInt {
        #if canImport(Glibc)
            UInt(pthread_self())
        #else
            UInt(bitPattern: pthread_self())
        #endif
    }

    /// Starts the statement `connection` has prepared (see `PostgresConnection.loopStart`): on the calling
    /// thread when the poller keeps sockets registered, else on the loop's thread.
    func start(_ connection: PostgresConnection) {
        guard readiness.keepsSockets else {
            guard onLoopThread else { return submit(connection) }
            return apply(connection.loopStart(), connection)
        }
        apply(connection.loopStart(), connection)
    }

    /// Starts the statement `connection` has prepared on the loop's thread.
    private func submit(_ connection: PostgresConnection) {
        let wake = lock.withLock {
            submissions.append(connection)
            defer { wakePending = true }
            return !wakePending
        }
        if wake { readiness.wake() }
    }

    /// Runs `job` on the loop's thread, after the sockets ready now.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let onLoop = onLoopThread
        enum Decision { case queued, wake, runElsewhere }
        let decision = lock.withLock { () -> Decision in
            if exited { return .runElsewhere }
            jobs.append(job)
            // The loop thread looks at its jobs before it waits again: it needs no wake-up.
            if onLoop || wakePending { return .queued }
            wakePending = true
            return .wake
        }
        switch decision {
        case .queued: break
        case .wake: readiness.wake()
        case .runElsewhere:
            let executor = asUnownedTaskExecutor()
            Thread.detachNewThread { job.runSynchronously(on: executor) }
        }
    }

    /// Stops the thread once nothing is in flight.
    func shutdown() {
        lock.withLock { stopped = true }
        readiness.wake()
    }

    private func run() {
        threadID.store(Self.currentThreadID(), ordering: .relaxed)
        let executor = asUnownedTaskExecutor()
        while true {
            let blocking = lock.withLock { jobs.isEmpty }
            let waited = readiness.wait(blocking: blocking) { socket, readable, writable in
                let connection = lock.withLock { () -> PostgresConnection? in
                    if let connection = armed.removeValue(forKey: socket) { return connection }
                    if readiness.keepsSockets { unclaimed.insert(socket) }
                    return nil
                }
                guard let connection else { return }
                apply(connection.loopEvent(readable: readable, writable: writable), connection, afterRead: readable)
            }
            if !waited { break }
            let (started, ready) = lock.withLock {
                defer {
                    submissions.removeAll(keepingCapacity: true)
                    jobs.removeAll(keepingCapacity: true)
                    wakePending = false
                }
                return (submissions, jobs)
            }
            for connection in started {
                apply(connection.loopStart(), connection)
            }
            for job in ready {
                job.runSynchronously(on: executor)
            }
            if lock.withLock({ stopped && armed.isEmpty && jobs.isEmpty }) { break }
        }
        let left = lock.withLock {
            exited = true
            defer { jobs = [] }
            return jobs
        }
        for job in left {
            Thread.detachNewThread { job.runSynchronously(on: executor) }
        }
        readiness.close()
    }

    /// Waits for the socket `step` names, if it names one, after its owner's last libpq call: from then on
    /// the loop thread may read it.
    ///
    /// With one-shot readiness (poll) the socket is armed for one event. With registered sockets (epoll,
    /// edge-triggered) a socket is registered once, and changed only to watch writability while output is
    /// queued, or to report again input that a read may have left behind (`afterRead`). A socket reported
    /// ready before its connection was recorded is read at once, here.
    private func apply(_ step: PostgresConnection.LoopStep, _ connection: PostgresConnection, afterRead: Bool = false) {
        var step = step
        var afterRead = afterRead
        while case .wait(let socket, let writable) = step {
            guard readiness.keepsSockets else {
                lock.withLock { armed[socket] = connection }
                if let error = readiness.arm(socket, writable: writable) {
                    lock.withLock { armed[socket] = nil }
                    step = connection.loopFail("cannot wait on the connection's socket: errno \(error)")
                    afterRead = false
                    continue
                }
                return
            }
            // Input libpq did not read stays in the socket, and no new edge would report it: arming again does.
            let registration = connection.loopRegistration
            if registration?.socket != socket || registration?.writable == true || writable || afterRead {
                if let error = readiness.arm(socket, writable: writable) {
                    connection.loopRegistration = nil
                    step = connection.loopFail("cannot wait on the connection's socket: errno \(error)")
                    afterRead = false
                    continue
                }
                connection.loopRegistration = .init(socket: socket, writable: writable)
            }
            let missed = lock.withLock { () -> Bool in
                if unclaimed.remove(socket) != nil { return true }
                armed[socket] = connection
                return false
            }
            if !missed { return }
            step = connection.loopEvent(readable: true, writable: writable)
            afterRead = true
        }
    }
}

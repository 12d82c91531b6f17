import Foundation
public import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Runs password hashing (scrypt) on a few dedicated threads, with a bounded queue of waiting jobs.
///
/// At the default cost one scrypt run takes about 0.1 s of CPU and 32 MiB. On Swift's cooperative
/// pool a handful at once would stall every other request, and inside a transaction each would hold
/// a pooled connection; here they hold neither. At most `threads` jobs run at once, at a lower CPU
/// priority than the rest of the process (`niceness`), at most `threads × waitingPerThread` wait, and
/// a job beyond that is refused at once with ``Busy`` (HTTP 503 with `Retry-After`) instead of queuing
/// without end.
///
/// A job is new, then waiting (in the queue), then running, then done; a waiting job whose task is
/// cancelled leaves the queue (cancelled) and never runs. The pool is a `Service`: on graceful shutdown
/// (or ``shutdown()``) it refuses new jobs, lets queued and running ones finish, and its threads exit.
public final class PasswordHashingPool: Service, @unchecked Sendable {
    /// How many threads hash and how many jobs may wait.
    public struct Configuration: Sendable {
        /// Threads that hash at once (started on demand). Default: the number of CPUs.
        public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
        /// Jobs that may wait per thread; one more is refused with ``Busy``. Default 32 (about 3.5 s of
        /// waiting at the default cost).
        public var waitingPerThread: Int = 32
        /// How much lower than the process's the threads' CPU priority is (a nice increment; Linux only).
        /// Default 10: when the CPUs are busy, requests run before hashing does.
        public var niceness: Int32 = 10

        /// The defaults.
        public init() {}

        /// Creates a configuration.
        public init(threads: Int, waitingPerThread: Int, niceness: Int32 = 10) {
            self.threads = threads
            self.waitingPerThread = waitingPerThread
            self.niceness = niceness
        }
    }

    /// A job refused because the queue is full (or the pool is shutting down).
    public struct Busy: Error, Sendable, Hashable {
        /// When the queue should have room again, at the recent pace (at least a second).
        public var retryAfter: Duration
    }

    /// How many jobs run and wait now.
    public struct Load: Sendable, Hashable {
        /// Jobs on a thread.
        public var running: Int
        /// Jobs in the queue.
        public var waiting: Int
    }

    /// The hasher whose work the pool runs.
    public let hasher: PasswordHasher
    private let threads: Int
    private let queueLimit: Int
    private let niceness: Int32
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var head = 0
    private var waiting = 0
    private var running = 0
    private var threadCount = 0
    private var idleThreads = 0
    private var stopped = false
    /// A moving average of a job's duration in seconds, for `Retry-After`.
    private var averageSeconds = 0.1

    /// Creates a pool; its threads start with the first jobs.
    public init(hasher: PasswordHasher = PasswordHasher(), configuration: Configuration = Configuration()) {
        self.hasher = hasher
        self.threads = max(1, configuration.threads)
        self.queueLimit = max(0, configuration.threads * configuration.waitingPerThread)
        self.niceness = configuration.niceness
    }

    /// Hashes `password` with a new salt.
    /// - Throws: ``Busy`` when the queue is full; `CancellationError` when the task is cancelled while waiting.
    public func hash(_ password: String) async throws -> String {
        let hasher = hasher
        return try await perform { try hasher.hash(password) }
    }

    /// Whether `password` matches `encoded`; with no hash (an unknown login, a user without a password)
    /// it is checked against a dummy hash of the same cost, so every call costs exactly one scrypt run.
    /// - Throws: ``Busy`` when the queue is full; `CancellationError` when the task is cancelled while waiting.
    public func verify(_ password: String, against encoded: String?) async throws -> Bool {
        let hasher = hasher
        return try await perform {
            guard let encoded else {
                _ = hasher.verify(password, against: hasher.dummyHash)
                return false
            }
            return hasher.verify(password, against: encoded)
        }
    }

    /// The jobs running and waiting now.
    public var load: Load {
        condition.withLock { Load(running: running, waiting: waiting) }
    }

    /// Waits for graceful shutdown, then shuts the pool down.
    public func run() async throws {
        try? await gracefulShutdown()
        shutdown()
    }

    /// Refuses new jobs; queued and running ones finish, then the threads exit.
    public func shutdown() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    /// Runs `body` on one of the pool's threads.
    private func perform<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        let job = Job()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
                job.run = { continuation.resume(with: Swift.Result { try body() }) }
                job.fail = { continuation.resume(throwing: $0) }
                if let refusal = enqueue(job) { continuation.resume(throwing: refusal) }
            }
        } onCancel: {
            cancel(job)
        }
    }

    /// Queues `job` and starts a thread if none is free; returns why the job is refused instead.
    private func enqueue(_ job: Job) -> (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        guard job.state == .new else { return CancellationError() }
        guard !stopped, running + waiting < threads + queueLimit else {
            let backlog = Double(running + waiting) / Double(threads) * averageSeconds
            return Busy(retryAfter: .seconds(max(1, Int(backlog.rounded(.up)))))
        }
        job.state = .waiting
        queue.append(job)
        waiting += 1
        if waiting > idleThreads && threadCount < threads {
            threadCount += 1
            let thread = Thread { [self] in loop() }
            thread.name = "password-hashing-\(threadCount)"
            thread.start()
        }
        condition.signal()
        return nil
    }

    /// Takes a waiting job out of the queue and fails it with `CancellationError`.
    private func cancel(_ job: Job) {
        condition.lock()
        let wasWaiting = job.state == .waiting
        if job.state == .new || wasWaiting { job.state = .cancelled }
        if wasWaiting { waiting -= 1 }
        condition.unlock()
        if wasWaiting { job.fail(CancellationError()) }
    }

    private func loop() {
        lowerPriority()
        condition.lock()
        while true {
            while head == queue.count && !stopped {
                idleThreads += 1
                condition.wait()
                idleThreads -= 1
            }
            if head == queue.count {
                threadCount -= 1
                condition.unlock()
                return
            }
            let job = queue[head]
            head += 1
            if head > 64 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            guard job.state == .waiting else { continue }
            job.state = .running
            waiting -= 1
            running += 1
            condition.unlock()
            let start = ContinuousClock.now
            job.run()
            let elapsed = ContinuousClock.now - start
            condition.lock()
            running -= 1
            job.state = .done
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            averageSeconds = 0.8 * averageSeconds + 0.2 * seconds
        }
    }

    /// Raises this thread's nice value by `niceness` (on Linux the nice value belongs to the thread).
    private func lowerPriority() {
        #if os(Linux)
        guard niceness > 0 else { return }
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        let current = getpriority(which, 0)
        guard errno == 0 else { return }
        _ = setpriority(which, 0, min(19, current + niceness))
        #endif
    }

    /// One piece of work; its fields are guarded by the pool's lock.
    private final class Job: @unchecked Sendable {
        enum State { case new, waiting, running, done, cancelled }
        var state = State.new
        var run: @Sendable () -> Void = {}
        var fail: @Sendable (any Error) -> Void = { _ in }
    }
}

import Foundation

/// Dedicated threads on which every blocking libpq call runs, so that no call
/// into libpq ever blocks Swift's cooperative thread pool.
final class PostgresThreadPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private var stopped = false
    private var idleThreads = 0
    private var threadCount = 0
    private let maximumThreads: Int
    private let name: String

    /// Creates a pool that starts threads on demand, up to `maximumThreads`.
    init(maximumThreads: Int, name: String) {
        self.maximumThreads = max(1, maximumThreads)
        self.name = name
    }

    /// Runs `body` on one of the pool's threads and returns its result.
    func run<Result: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> Result
    ) async throws -> Result {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Result, any Error>) in
            submit {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Queues `work`; starts a thread when queued work outnumbers idle threads and the limit allows.
    func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        let startThread = queue.count - head > idleThreads && threadCount < maximumThreads && !stopped
        if startThread { threadCount += 1 }
        condition.signal()
        condition.unlock()
        if startThread {
            let thread = Thread { [self] in self.loop() }
            thread.name = "\(name)-\(threadCount)"
            thread.start()
        }
    }

    /// Lets the threads finish queued work and exit.
    func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
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
            let work = queue[head]
            head += 1
            if head > 64 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            condition.unlock()
            work()
        }
    }
}

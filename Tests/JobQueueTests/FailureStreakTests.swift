import JobQueue
import Logging
import Synchronization
import Testing

@Suite("A repeating failure is logged when it starts and when it ends")
struct FailureStreakTests {
    /// Keeps every line logged through it.
    final class Lines: Sendable {
        let lines = Mutex<[(Logger.Level, String)]>([])
    }

    struct Capture: LogHandler {
        let sink: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sink.lines.withLock { $0.append((event.level, "\(event.message)")) }
        }
    }

    struct Unreachable: Error {}

    @Test("Ten failures in a row log one warning; the success after them logs one notice with the count; a success alone logs nothing")
    func onceEachWay() {
        let sink = Lines()
        let logger = Logger(label: "test") { _ in Capture(sink: sink) }
        let streak = FailureStreak("claiming jobs")
        #expect(streak.succeeded(logger: logger) == nil)
        let logged = (0..<10).map { _ in streak.failed(Unreachable(), logger: logger) }
        #expect(logged == [true] + Array(repeating: false, count: 9))
        #expect(streak.succeeded(logger: logger) == 10)
        #expect(streak.succeeded(logger: logger) == nil)
        #expect(streak.failed(Unreachable(), logger: logger))
        let lines = sink.lines.withLock { $0 }
        #expect(lines.map(\.0) == [.warning, .notice, .warning])
        #expect(lines[0].1 == "claiming jobs failed; trying again quietly until it works")
        #expect(lines[1].1 == "claiming jobs works again")
    }
}

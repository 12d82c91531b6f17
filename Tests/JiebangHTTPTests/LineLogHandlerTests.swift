import JiebangHTTP
import Logging
import Synchronization
import Testing

@Suite("Log lines")
struct LineLogHandlerTests {
    /// Lines written, in order.
    final class Lines: TextOutputStream, @unchecked Sendable {
        let lines = Mutex<[String]>([])
        func write(_ string: String) { lines.withLock { $0.append(string) } }
        /// The lines without their leading timestamp.
        var untimed: [String] { lines.withLock { $0.map { String($0.drop { $0 != " " }) } } }
    }

    struct Refusal: Error, CustomStringConvertible { var description: String { "refused" } }

    @Test("A line reads as swift-log's StreamLogHandler writes it: level, label, sorted metadata of every source, source, message")
    func sameLinesAsStreamLogHandler() {
        let ours = Lines()
        let theirs = Lines()
        let provider = Logger.MetadataProvider { ["trace.id": "t-1"] }
        var line = Logger(label: "jiebang.test") { LineLogHandler(label: $0, metadataProvider: provider, write: ours.write) }
        var stream = Logger(label: "jiebang.test") { StreamLogHandler(label: $0, stream: theirs, metadataProvider: provider) }
        for index in 0..<2 {
            var logger = index == 0 ? line : stream
            logger.logLevel = .notice
            logger[metadataKey: "user.id"] = "42"
            logger[metadataKey: "hb.request.id"] = "abc"
            logger.info("not written: below the level")
            logger.notice("signed in", metadata: ["unit": "兰州大学", "user.id": "43"])
            logger.warning("refused", error: Refusal())
            logger[metadataKey: "user.id"] = nil
            logger.error("plain")
            if index == 0 { line = logger } else { stream = logger }
        }
        #expect(ours.untimed.count == 3)
        #expect(ours.untimed == theirs.untimed)
        #expect(ours.untimed.first == " notice jiebang.test: hb.request.id=abc trace.id=t-1 unit=兰州大学 user.id=43 [JiebangHTTPTests] signed in\n")
        let stamp = ours.lines.withLock { String($0[0].prefix { $0 != " " }) }
        #expect(stamp.count == 24, "\(stamp)")
    }
}

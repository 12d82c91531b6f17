public import Foundation

/// A program the test runs as a real process, to kill or stop as an operator would.
///
/// Output goes to a log file (printed by `output`), so a chatty child never blocks on a full pipe.
public final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let log: URL
    private let exited = NSCondition()
    private var status: Int32?

    /// Starts `executable` with `arguments`.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws {
        log = FileManager.default.temporaryDirectory.appending(path: "child-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [exited] process in
            exited.lock()
            self.status =
                process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            exited.broadcast()
            exited.unlock()
            try? handle.close()
        }
        try process.run()
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Sends `signal` (SIGKILL, SIGTERM, ...).
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits up to `timeout` for the process to exit.
    /// - Returns: its exit status (or 128 + signal), or nil if it is still running.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let done = exited.withLock { status }
            if let done { return done }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return exited.withLock { status }
    }

    /// Everything the process printed so far.
    public var output: String {
        (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    }

    /// A program built beside the test bundle (for example `QueueBenchmark` or `jiebang`).
    public static func builtProduct(_ name: String) -> URL {
        var folder = Bundle.main.bundleURL
        while folder.path != "/" {
            let candidate = folder.appending(path: name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            folder.deleteLastPathComponent()
        }
        return TestDatabase.packageRoot.appending(path: ".build/debug/\(name)")
    }
}

public import Foundation
import Glibc

/// A program the test runs as a real process, to kill or stop as an operator would.
///
/// Output goes to a log file (printed by `output`, removed with the object), so a chatty child never
/// blocks on a full pipe.
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
        process.terminationHandler = { [exited, weak self] process in
            exited.lock()
            self?.status =
                process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            exited.broadcast()
            exited.unlock()
            try? handle.close()
        }
        try process.run()
    }

    deinit {
        // The log lives as long as the test holds the process (its failures print `output`).
        try? FileManager.default.removeItem(at: log)
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

/// TCP ports for servers a test starts.
public enum FreePort {
    /// A port on 127.0.0.1 that no socket holds now, as the kernel picks it for a bind to port 0.
    ///
    /// A random number could fall in the kernel's range of ephemeral ports, which the tests' own client
    /// connections hold by the hundred.
    public static func next() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

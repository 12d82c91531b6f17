public import Foundation

/// A real SMTP server for a test: aiosmtpd run by `scripts/smtp-sink` on 127.0.0.1, which spools each
/// accepted message as JSON. Recipients `refuse…@` get 550, `busy…@` get 451 (scripts/smtp_sink.py).
public final class SMTPSink: Sendable {
    /// One accepted message.
    public struct Message: Decodable, Sendable {
        public var mailFrom: String
        public var rcptTos: [String]
        /// The message as received (headers and body, CRLF).
        public var data: String

        /// The value of header `name` (first occurrence, folded lines joined).
        public func header(_ name: String) -> String? {
            let head = data.components(separatedBy: "\r\n\r\n").first ?? ""
            var value: String?
            for line in head.components(separatedBy: "\r\n") {
                if let current = value {
                    guard line.hasPrefix(" ") || line.hasPrefix("\t") else { break }
                    value = current + line
                } else if line.lowercased().hasPrefix(name.lowercased() + ":") {
                    value = String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
                }
            }
            return value
        }

        /// The base64 body, decoded.
        public var text: String? {
            let parts = data.components(separatedBy: "\r\n\r\n")
            guard parts.count >= 2, let bytes = Data(base64Encoded: parts[1].replacingOccurrences(of: "\r\n", with: "")) else {
                return nil
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// `Subject:` with its encoded words decoded.
        public var subject: String? {
            guard let raw = header("Subject") else { return nil }
            return raw.components(separatedBy: " ").map { word -> String in
                guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="),
                    let bytes = Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))
                else { return word }
                return String(decoding: bytes, as: UTF8.self)
            }.joined()
        }
    }

    /// The port it listens on.
    public let port: Int
    /// Where the messages are spooled (and, with TLS, `cert.pem`).
    public let spool: URL
    private let process: ChildProcess

    /// Starts a sink on `port` (a free one by default) and waits until it listens.
    /// - Parameter tls: require STARTTLS with a self-signed certificate for localhost (`certificate`) and
    ///   AUTH as `jiebang` / `sink-password`.
    ///   - hold: while this file exists, a message is spooled and then waits for its answer (the sink prints `holding`).
    public init(port: Int? = nil, tls: Bool = false, hold: URL? = nil) async throws {
        self.port = try port ?? FreePort.next()
        spool = FileManager.default.temporaryDirectory.appending(path: "smtp-sink-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
        process = try ChildProcess(
            TestDatabase.packageRoot.appending(path: "scripts/smtp-sink"),
            ["--port", "\(self.port)", "--spool", spool.path] + (tls ? ["--tls"] : []) + (hold.map { ["--hold", $0.path] } ?? []))
        let process = process
        let ready = await eventually(timeout: .seconds(120), poll: .milliseconds(50)) {
            process.output.contains("ready")
        }
        guard ready else { throw Failed(output: process.output) }
    }

    /// The sink did not start.
    public struct Failed: Error, CustomStringConvertible {
        public var output: String
        public var description: String { "the SMTP sink did not start: \(output)" }
    }

    /// The self-signed certificate of a TLS sink.
    public var certificate: URL { spool.appending(path: "cert.pem") }

    /// The messages accepted so far, in no particular order.
    public func messages() throws -> [Message] {
        let names = try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".json") }
        return try names.map { try JSONDecoder().decode(Message.self, from: Data(contentsOf: spool.appending(path: $0))) }
    }

    /// Stops the server and waits for it to exit (its port is free again).
    public func stop() async {
        process.send(SIGTERM)
        _ = await process.waitForExit(timeout: .seconds(10))
    }

    /// What the sink printed.
    public var output: String { process.output }

    deinit {
        process.send(SIGKILL)
        try? FileManager.default.removeItem(at: spool)
    }
}

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Sends one message per session over SwiftNIO, driving an `SMTPSession`: the session decides, this only
/// reads replies, writes commands and starts TLS.
///
/// Why our own: the package mirror has no SMTP client, and SwiftNIO (with swift-nio-ssl for STARTTLS and
/// implicit TLS) is what Hummingbird already runs on, so the protocol is a small state machine on a
/// transport the process already has.
public enum SMTPClient {
    /// The longest reply line accepted (RFC 5321 §4.5.3.1.5 allows 512; servers send longer texts).
    static let maximumLineLength = 4_096

    /// Sends `message` to `message.to` through the configured server.
    /// - Throws: `SMTPError`: `.permanent` when the server refused the recipient or the message with a
    ///   5xx, `.transient` for anything that may pass later (no connection, a 4xx, a timeout, a TLS failure).
    public static func send(_ message: MailMessage, configuration: SMTPConfiguration) async throws(SMTPError) {
        let accepted = Flag()
        do {
            let tls = try configuration.security == .none ? nil : context(configuration)
            let channel = try await connect(configuration, tls: configuration.security == .tls ? tls : nil)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await converse(channel, message: message, configuration: configuration, tls: tls, accepted: accepted)
                }
                group.addTask {
                    try await Task.sleep(for: configuration.timeout)
                    channel.channel.close(promise: nil)
                    throw SMTPError(
                        .transient, stage: "session", reason: "timed out after \(configuration.timeout.components.seconds) s")
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch let error as SMTPError {
            // A server that accepted the message and then hung or dropped the line at QUIT has the message.
            if accepted.isSet { return }
            throw error
        } catch {
            if accepted.isSet { return }
            throw SMTPError(.transient, stage: "session", reason: describe(error))
        }
    }

    private static func connect(_ configuration: SMTPConfiguration, tls: NIOSSLContext?) async throws(SMTPError)
        -> NIOAsyncChannel<String, ByteBuffer>
    {
        let host = configuration.host
        let sniName = isIPAddress(host) ? nil : host
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: sniName))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder()))
                        return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError(.transient, stage: "connect", reason: "cannot connect to \(host):\(configuration.port): \(describe(error))")
        }
    }

    private static func converse(
        _ channel: NIOAsyncChannel<String, ByteBuffer>, message: MailMessage, configuration: SMTPConfiguration,
        tls: NIOSSLContext?, accepted: Flag
    ) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            var parser = SMTPReplyParser()
            var stage = "greeting"
            func reply() async throws -> SMTPReply {
                while true {
                    let line: String?
                    do {
                        line = try await lines.next()
                    } catch {
                        throw SMTPError(.transient, stage: stage, reason: "the connection failed: \(describe(error))")
                    }
                    guard let line else { throw SMTPError(.transient, stage: stage, reason: "the server closed the connection") }
                    do {
                        if let reply = try parser.feed(line) { return reply }
                    } catch {
                        throw SMTPError(.transient, stage: stage, reason: error.description)
                    }
                }
            }
            var session = SMTPSession(configuration: configuration, recipient: message.to)
            var action = session.receive(try await reply())
            while true {
                switch action {
                case .send(let command):
                    // The command's name without its argument (`RCPT TO`, `AUTH`), never a credential.
                    stage = ["MAIL FROM", "RCPT TO", "AUTH"].first { command.hasPrefix($0) } ?? String(command.prefix { $0 != " " })
                    try await outbound.write(ByteBuffer(string: command + "\r\n"))
                    action = session.receive(try await reply())
                case .startTLS:
                    stage = "TLS"
                    guard let tls else { throw SMTPError(.transient, stage: stage, reason: "no TLS context") }
                    let host = configuration.host
                    let underlying = channel.channel
                    try await underlying.eventLoop.submit {
                        try underlying.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: isIPAddress(host) ? nil : host), position: .first)
                    }.get()
                    action = session.tlsEstablished()
                case .sendMessage:
                    stage = "message"
                    try await outbound.write(ByteBuffer(bytes: message.rendered() + Array(".\r\n".utf8)))
                    action = session.receive(try await reply())
                case .quit(let error):
                    if error == nil { accepted.set() }
                    stage = "QUIT"
                    try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
                    _ = try? await reply()
                    if let error { throw error }
                    return
                }
            }
        }
    }

    private static func context(_ configuration: SMTPConfiguration) throws(SMTPError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let file = configuration.trustRootsFile { tls.trustRoots = .file(file) }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw SMTPError(.transient, stage: "TLS", reason: "cannot set up TLS: \(describe(error))")
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    private static func describe(_ error: any Error) -> String {
        String(String(describing: error).prefix(300))
    }
}

/// Splits the byte stream into lines, without their CR LF (a bare LF ends a line too).
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    struct LineTooLong: Error, CustomStringConvertible {
        var description: String { "the server sent a line longer than \(SMTPClient.maximumLineLength) bytes" }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > SMTPClient.maximumLineLength { throw LineTooLong() }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard length <= SMTPClient.maximumLineLength, var line = buffer.readString(length: length) else { throw LineTooLong() }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        context.fireChannelRead(Self.wrapInboundOut(line))
        return .continue
    }
}

/// A flag set once from the session's task and read after it.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

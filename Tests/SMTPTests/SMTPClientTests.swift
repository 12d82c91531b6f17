import Foundation
import Glibc
import JiebangTesting
import Testing

@testable import SMTP

/// The client against a real SMTP server (aiosmtpd, `scripts/smtp-sink`).
@Suite("SMTP client against a real server")
struct SMTPClientTests {
    static func message(to recipient: String, id: String = UUID().uuidString) throws -> MailMessage {
        MailMessage(
            from: try MailAddress("noreply@example.gov.cn", name: "揭榜挂帅平台"), to: try MailAddress(recipient),
            subject: "评审截止提醒", text: "您有一份评审任务将于 12 月 5 日截止。\n.以点开头的一行\n", messageID: "\(id)@example.gov.cn",
            date: Date())
    }

    @Test("A message sent over plain SMTP arrives once, with its envelope, headers and text intact")
    func plain() async throws {
        let sink = try await SMTPSink()
        let configuration = try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)", sender: "平台 <noreply@example.gov.cn>")
        try await SMTPClient.send(try Self.message(to: "zhang@example.com", id: "m-1"), configuration: configuration)
        let messages = try sink.messages()
        #expect(messages.count == 1)
        #expect(messages.first?.mailFrom == "noreply@example.gov.cn")
        #expect(messages.first?.rcptTos == ["zhang@example.com"])
        #expect(messages.first?.subject == "评审截止提醒")
        #expect(messages.first?.header("Message-ID") == "<m-1@example.gov.cn>")
        #expect(messages.first?.text == "您有一份评审任务将于 12 月 5 日截止。\r\n.以点开头的一行\r\n")
        await sink.stop()
    }

    @Test(
        "STARTTLS and AUTH against a server that requires both, trusting its own certificate; without trust the handshake fails as transient"
    )
    func startTLS() async throws {
        let sink = try await SMTPSink(tls: true)
        var configuration = try SMTPConfiguration(
            url: "smtp+starttls://jiebang:sink-password@localhost:\(sink.port)", sender: "noreply@example.gov.cn")
        configuration.timeout = .seconds(10)
        configuration.trustRootsFile = sink.certificate.path
        try await SMTPClient.send(try Self.message(to: "li@example.com"), configuration: configuration)
        #expect(try sink.messages().map(\.rcptTos) == [["li@example.com"]])

        var wrongPassword = configuration
        wrongPassword.password = "wrong"
        let refused = await #expect(throws: SMTPError.self) {
            try await SMTPClient.send(try Self.message(to: "li@example.com"), configuration: wrongPassword)
        }
        #expect(refused?.kind == .transient)
        #expect(refused?.stage == "AUTH")

        var untrusted = configuration
        untrusted.trustRootsFile = nil
        let handshake = await #expect(throws: SMTPError.self) {
            try await SMTPClient.send(try Self.message(to: "li@example.com"), configuration: untrusted)
        }
        #expect(handshake?.kind == .transient)
        #expect(try sink.messages().count == 1)
        await sink.stop()
    }

    @Test("A refused recipient is a permanent failure; a busy one, a server that is away and one that never greets are transient")
    func failures() async throws {
        let sink = try await SMTPSink()
        var configuration = try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)", sender: "noreply@example.gov.cn")
        let refused = await #expect(throws: SMTPError.self) {
            try await SMTPClient.send(try Self.message(to: "refuse-me@example.com"), configuration: configuration)
        }
        #expect(refused?.kind == .permanent)
        #expect(refused?.description == "SMTP 550 5.1.1 mailbox unavailable (RCPT TO)")
        let busy = await #expect(throws: SMTPError.self) {
            try await SMTPClient.send(try Self.message(to: "busy@example.com"), configuration: configuration)
        }
        #expect(busy?.kind == .transient)
        #expect(busy?.reply?.code == 451)
        await sink.stop()

        let away = await #expect(throws: SMTPError.self) {
            try await SMTPClient.send(try Self.message(to: "a@example.com"), configuration: configuration)
        }
        #expect(away?.kind == .transient)
        #expect(away?.stage == "connect")

        // A listener that accepts connections and never says a word.
        let silent = try SilentListener()
        configuration.port = silent.port
        configuration.timeout = .seconds(1)
        let started = ContinuousClock.now
        let timedOut = await #expect(throws: SMTPError.self) {
            try await SMTPClient.send(try Self.message(to: "a@example.com"), configuration: configuration)
        }
        #expect(timedOut?.kind == .transient)
        #expect(timedOut?.description.contains("timed out after 1 s") == true)
        #expect(ContinuousClock.now - started < .seconds(10))
        silent.close()
    }
}

/// A TCP socket on 127.0.0.1 that listens and never accepts: connections complete in the backlog and hear nothing.
final class SilentListener: Sendable {
    let port: Int
    private let socket: Int32

    init() throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let socket = socket
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && listen(socket, 16) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(socket) }
}

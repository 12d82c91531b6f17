import Foundation
import Testing

@testable import SMTP

/// The SMTP session as a state machine, fed replies without a server.
@Suite("SMTP session")
struct SMTPSessionTests {
    static func configuration(_ url: String = "smtp://relay.example.com") throws -> SMTPConfiguration {
        try SMTPConfiguration(url: url, sender: "揭榜挂帅平台 <noreply@example.gov.cn>", heloName: "jiebang.example")
    }

    static func reply(_ code: Int, _ lines: String...) -> SMTPReply { SMTPReply(code: code, lines: lines.isEmpty ? [""] : lines) }

    @Test("A plain session goes greeting, EHLO, MAIL FROM, RCPT TO, DATA, message, QUIT")
    func plainSession() throws {
        var session = SMTPSession(configuration: try Self.configuration(), recipient: try MailAddress("zhang@example.com"))
        #expect(session.receive(Self.reply(220, "relay ESMTP")) == .send("EHLO jiebang.example"))
        #expect(session.receive(Self.reply(250, "relay", "8BITMIME", "SIZE 1000")) == .send("MAIL FROM:<noreply@example.gov.cn>"))
        #expect(session.receive(Self.reply(250, "ok")) == .send("RCPT TO:<zhang@example.com>"))
        #expect(session.receive(Self.reply(250, "ok")) == .send("DATA"))
        #expect(session.receive(Self.reply(354, "go ahead")) == .sendMessage)
        #expect(session.receive(Self.reply(250, "queued")) == .quit(nil))
    }

    @Test("A server that does not know EHLO gets HELO, unless the session needs extensions")
    func heloFallback() throws {
        var plain = SMTPSession(configuration: try Self.configuration(), recipient: try MailAddress("a@example.com"))
        _ = plain.receive(Self.reply(220))
        #expect(plain.receive(Self.reply(502, "command not implemented")) == .send("HELO jiebang.example"))
        #expect(plain.receive(Self.reply(250)) == .send("MAIL FROM:<noreply@example.gov.cn>"))

        var tls = SMTPSession(
            configuration: try Self.configuration("smtp+starttls://u:p@smtp.example.com"), recipient: try MailAddress("a@example.com"))
        _ = tls.receive(Self.reply(220))
        guard case .quit(let error?) = tls.receive(Self.reply(502)) else {
            Issue.record("expected the session to fail")
            return
        }
        #expect(error.kind == .transient)
        #expect(error.stage == "EHLO")
    }

    @Test("STARTTLS is required when configured: offered, it comes before AUTH, with EHLO again; not offered, the session fails")
    func startTLS() throws {
        let configuration = try Self.configuration("smtp+starttls://user%40x:p%3Ass@smtp.example.com")
        #expect(configuration.username == "user@x")
        #expect(configuration.password == "p:ss")
        #expect(configuration.port == 587)
        var session = SMTPSession(configuration: configuration, recipient: try MailAddress("a@example.com"))
        _ = session.receive(Self.reply(220))
        #expect(session.receive(Self.reply(250, "smtp", "STARTTLS", "AUTH PLAIN LOGIN")) == .send("STARTTLS"))
        #expect(session.receive(Self.reply(220, "ready")) == .startTLS)
        #expect(session.tlsEstablished() == .send("EHLO jiebang.example"))
        let plain = Data("\0user@x\0p:ss".utf8).base64EncodedString()
        #expect(session.receive(Self.reply(250, "smtp", "AUTH LOGIN PLAIN")) == .send("AUTH PLAIN \(plain)"))
        #expect(session.receive(Self.reply(235)) == .send("MAIL FROM:<noreply@example.gov.cn>"))

        var refused = SMTPSession(configuration: configuration, recipient: try MailAddress("a@example.com"))
        _ = refused.receive(Self.reply(220))
        guard case .quit(let error?) = refused.receive(Self.reply(250, "smtp", "AUTH PLAIN")) else {
            Issue.record("expected the session to fail without STARTTLS")
            return
        }
        #expect(error.stage == "STARTTLS")
        #expect(error.kind == .transient)
    }

    @Test("AUTH LOGIN sends the user and the password base64-encoded, each after a 334")
    func authLogin() throws {
        var session = SMTPSession(
            configuration: try Self.configuration("smtps://me:secret@smtp.example.com"), recipient: try MailAddress("a@example.com"))
        _ = session.receive(Self.reply(220))
        #expect(session.receive(Self.reply(250, "smtp", "AUTH LOGIN")) == .send("AUTH LOGIN"))
        #expect(session.receive(Self.reply(334, "VXNlcm5hbWU6")) == .send(Data("me".utf8).base64EncodedString()))
        #expect(session.receive(Self.reply(334, "UGFzc3dvcmQ6")) == .send(Data("secret".utf8).base64EncodedString()))
        #expect(session.receive(Self.reply(235)) == .send("MAIL FROM:<noreply@example.gov.cn>"))
    }

    @Test("A 5xx to the recipient or the message is permanent; a 4xx anywhere, and a 5xx to the session's own commands, are transient")
    func failureKinds() throws {
        func run(_ replies: [SMTPReply]) throws -> SMTPError? {
            var session = SMTPSession(configuration: try Self.configuration(), recipient: try MailAddress("a@example.com"))
            var last = SMTPSession.Action.quit(nil)
            for reply in replies {
                last = session.receive(reply)
                if case .quit = last { break }
            }
            guard case .quit(let error) = last else { return nil }
            return error
        }
        let hello = [Self.reply(220), Self.reply(250)]
        #expect(try run(hello + [Self.reply(250), Self.reply(550, "5.1.1 no such user")])?.kind == .permanent)
        #expect(
            try run(hello + [Self.reply(250), Self.reply(550, "5.1.1 no such user")])?.description
                == "SMTP 550 5.1.1 no such user (RCPT TO)")
        #expect(try run(hello + [Self.reply(250), Self.reply(450, "mailbox busy")])?.kind == .transient)
        #expect(try run(hello + [Self.reply(250), Self.reply(250), Self.reply(354), Self.reply(554, "spam")])?.kind == .permanent)
        #expect(try run(hello + [Self.reply(250), Self.reply(250), Self.reply(354), Self.reply(451, "later")])?.kind == .transient)
        #expect(try run(hello + [Self.reply(553, "sender refused")])?.kind == .transient)
        #expect(try run([Self.reply(554, "no service")])?.kind == .transient)
        #expect(try run([Self.reply(421, "closing")])?.stage == "greeting")
    }

    @Test("Multi-line replies are assembled; a line without a code, or with another code, is refused")
    func replies() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed("250-smtp.example.com") == nil)
        #expect(try parser.feed("250-STARTTLS") == nil)
        #expect(try parser.feed("250 AUTH PLAIN") == SMTPReply(code: 250, lines: ["smtp.example.com", "STARTTLS", "AUTH PLAIN"]))
        #expect(try parser.feed("220") == SMTPReply(code: 220, lines: [""]))
        #expect(throws: SMTPReplyParser.Malformed.self) { try parser.feed("hello") }
        var mixed = SMTPReplyParser()
        _ = try mixed.feed("250-a")
        #expect(throws: SMTPReplyParser.Malformed.self) { try mixed.feed("251 b") }
        var range = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Malformed.self) { try range.feed("999 no") }
        #expect(
            SMTPSession.extensions(of: SMTPReply(code: 250, lines: ["x", "auth plain login", "SIZE 10"]))["AUTH"] == ["plain", "login"])
    }

    @Test("Configurations: credentials only over TLS, known schemes only, a checked sender")
    func configurations() throws {
        #expect(throws: SMTPConfiguration.Invalid.self) { try Self.configuration("smtp://u:p@relay.example.com") }
        #expect(throws: SMTPConfiguration.Invalid.self) { try Self.configuration("http://relay.example.com") }
        #expect(throws: SMTPConfiguration.Invalid.self) { try Self.configuration("smtps://u@relay.example.com") }
        #expect(throws: SMTPConfiguration.Invalid.self) { try SMTPConfiguration(url: "smtp://relay", sender: "not an address") }
        let implicit = try Self.configuration("smtps://u:p@relay.example.com:2465")
        #expect(implicit.security == .tls)
        #expect(implicit.port == 2465)
        #expect(try Self.configuration().sender.name == "揭榜挂帅平台")
    }
}

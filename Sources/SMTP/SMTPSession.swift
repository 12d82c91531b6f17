import Foundation

/// One SMTP session as a pure state machine (RFC 5321, with STARTTLS, RFC 3207, and AUTH PLAIN or LOGIN,
/// RFC 4954): the client feeds it each reply and performs the action it returns. Tested without a server.
///
/// greeting → EHLO (→ HELO when the server does not know EHLO and nothing needs extensions) → STARTTLS →
/// EHLO again → AUTH → MAIL FROM → RCPT TO → DATA → message → QUIT.
public struct SMTPSession: Sendable {
    /// What the client does next.
    public enum Action: Sendable, Hashable {
        /// Write this command line (CRLF added by the client) and read the reply.
        case send(String)
        /// Start TLS on the connection, then call `tlsEstablished()`.
        case startTLS
        /// Write the rendered message and the closing `.` line, and read the reply.
        case sendMessage
        /// Write QUIT (best effort) and close: the message was accepted (nil) or the session failed.
        case quit(SMTPError?)
    }

    enum State: Sendable, Hashable {
        case greeting, ehlo, helo, startTLS, authPlain
        case authLogin(step: Int)
        case mailFrom, rcptTo, data, message, finished
    }

    private(set) var state = State.greeting
    /// The EHLO keywords the server announced (upper case), with their parameters.
    private(set) var extensions: [String: [String]] = [:]
    /// Whether the connection is encrypted.
    public private(set) var tlsActive: Bool

    private let security: SMTPConfiguration.Security
    private let heloName: String
    private let credentials: (username: String, password: String)?
    private let sender: String
    private let recipient: String

    /// A session that sends one message from `sender` to `recipient`.
    public init(configuration: SMTPConfiguration, recipient: MailAddress) {
        security = configuration.security
        tlsActive = configuration.security == .tls
        heloName = configuration.heloName
        if let username = configuration.username { credentials = (username, configuration.password ?? "") } else { credentials = nil }
        sender = configuration.sender.address
        self.recipient = recipient.address
    }

    /// The next action after the server's `reply`.
    public mutating func receive(_ reply: SMTPReply) -> Action {
        switch state {
        case .greeting:
            guard reply.code == 220 else { return fail(reply, stage: "greeting") }
            return hello()
        case .ehlo:
            guard reply.code == 250 else {
                if reply.isPermanent, security == .none, credentials == nil {
                    state = .helo
                    return .send("HELO \(heloName)")
                }
                return fail(reply, stage: "EHLO")
            }
            extensions = Self.extensions(of: reply)
            if security == .startTLS, !tlsActive {
                guard extensions["STARTTLS"] != nil else {
                    return fail(stage: "STARTTLS", reason: "the server does not offer STARTTLS, which the configuration requires")
                }
                state = .startTLS
                return .send("STARTTLS")
            }
            return authenticate()
        case .helo:
            guard reply.code == 250 else { return fail(reply, stage: "HELO") }
            return mailFrom()
        case .startTLS:
            guard reply.code == 220 else { return fail(reply, stage: "STARTTLS") }
            return .startTLS
        case .authPlain:
            guard reply.code == 235 else { return fail(reply, stage: "AUTH") }
            return mailFrom()
        case .authLogin(let step):
            guard let credentials else { return fail(stage: "AUTH", reason: "no credentials") }
            switch (step, reply.code) {
            case (0, 334):
                state = .authLogin(step: 1)
                return .send(Self.base64(credentials.username))
            case (1, 334):
                state = .authLogin(step: 2)
                return .send(Self.base64(credentials.password))
            case (2, 235):
                return mailFrom()
            default:
                return fail(reply, stage: "AUTH")
            }
        case .mailFrom:
            guard reply.code == 250 else { return fail(reply, stage: "MAIL FROM") }
            state = .rcptTo
            return .send("RCPT TO:<\(recipient)>")
        case .rcptTo:
            guard reply.code == 250 || reply.code == 251 else { return fail(reply, stage: "RCPT TO", permanentIf5xx: true) }
            state = .data
            return .send("DATA")
        case .data:
            guard reply.code == 354 else { return fail(reply, stage: "DATA", permanentIf5xx: true) }
            state = .message
            return .sendMessage
        case .message:
            guard reply.code == 250 else { return fail(reply, stage: "message", permanentIf5xx: true) }
            state = .finished
            return .quit(nil)
        case .finished:
            return .quit(nil)
        }
    }

    /// The next action once TLS is up after STARTTLS: EHLO again (RFC 3207 §4.2: forget what was announced before).
    public mutating func tlsEstablished() -> Action {
        tlsActive = true
        extensions = [:]
        return hello()
    }

    private mutating func hello() -> Action {
        state = .ehlo
        return .send("EHLO \(heloName)")
    }

    private mutating func authenticate() -> Action {
        guard let credentials else { return mailFrom() }
        guard tlsActive else { return fail(stage: "AUTH", reason: "credentials are sent only over TLS") }
        let mechanisms = Set((extensions["AUTH"] ?? []).map { $0.uppercased() })
        if mechanisms.contains("PLAIN") {
            state = .authPlain
            return .send("AUTH PLAIN " + Self.base64("\0\(credentials.username)\0\(credentials.password)"))
        }
        if mechanisms.contains("LOGIN") {
            state = .authLogin(step: 0)
            return .send("AUTH LOGIN")
        }
        return fail(stage: "AUTH", reason: "the server offers neither AUTH PLAIN nor AUTH LOGIN")
    }

    private mutating func mailFrom() -> Action {
        state = .mailFrom
        return .send("MAIL FROM:<\(sender)>")
    }

    /// Fails the session: a refusal of the message itself (its recipient or content) with a 5xx is permanent;
    /// anything else is the server's or the configuration's and may pass later.
    private mutating func fail(_ reply: SMTPReply, stage: String, permanentIf5xx: Bool = false) -> Action {
        state = .finished
        let kind: SMTPError.Kind = permanentIf5xx && reply.isPermanent ? .permanent : .transient
        return .quit(SMTPError(kind, stage: stage, reply: reply))
    }

    private mutating func fail(stage: String, reason: String) -> Action {
        state = .finished
        return .quit(SMTPError(.transient, stage: stage, reason: reason))
    }

    /// The keywords of an EHLO reply (every line but the first), upper case, with their parameters.
    static func extensions(of reply: SMTPReply) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            result[keyword.uppercased()] = Array(words.dropFirst())
        }
        return result
    }

    private static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
}

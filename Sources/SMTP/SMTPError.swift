/// Why a message was not sent, and whether sending it again can help.
public struct SMTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Whether to try again later.
    public enum Kind: Sendable, Hashable {
        /// The server or the network may accept it later: the server is away, it answered 4xx, or it refused
        /// the session (greeting, EHLO, STARTTLS, AUTH, MAIL FROM), which is the configuration's fault, not the message's.
        case transient
        /// The server refused this message for good: a 5xx to its recipient (RCPT TO) or to its content (after DATA).
        case permanent
    }

    /// Whether to try again.
    public var kind: Kind
    /// The command that was refused (`RCPT TO`, `DATA`, ...), or `connect`, `TLS`, `read`.
    public var stage: String
    /// The server's reply, when it answered.
    public var reply: SMTPReply?
    /// What went wrong, in words, when there is no reply.
    public var reason: String?

    /// Creates an error.
    public init(_ kind: Kind, stage: String, reply: SMTPReply? = nil, reason: String? = nil) {
        self.kind = kind
        self.stage = stage
        self.reply = reply
        self.reason = reason
    }

    /// `SMTP 550 5.1.1 no such user (RCPT TO)` when the server answered, else `<reason> (<stage>)`.
    public var description: String {
        if let reply { return "SMTP \(reply) (\(stage))" }
        return "\(reason ?? "failed") (\(stage))"
    }
}

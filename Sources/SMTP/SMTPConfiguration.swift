import Foundation

/// Where and how to send mail, from a URL:
/// - `smtp://relay.example.gov.cn` (port 25, no TLS: a relay on a trusted network; no credentials allowed),
/// - `smtp+starttls://user:password@smtp.example.com` (port 587, STARTTLS required before anything else),
/// - `smtps://user:password@smtp.example.com` (port 465, TLS from the first byte).
/// User and password are percent-decoded and sent with AUTH PLAIN (or LOGIN) only over TLS.
public struct SMTPConfiguration: Sendable, Hashable {
    /// How the connection is protected.
    public enum Security: String, Sendable, Hashable {
        /// No TLS.
        case none
        /// STARTTLS after EHLO; a server that does not offer it is refused.
        case startTLS
        /// TLS from the first byte.
        case tls
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// The envelope and `From:` sender.
    public var sender: MailAddress
    /// The name given in EHLO (default `localhost`).
    public var heloName: String
    /// How long one whole session (connect, handshake, send, QUIT) may take (default 30 s).
    public var timeout: Duration
    /// A PEM file of the certificate authorities to trust instead of the system's (for a private relay).
    public var trustRootsFile: String?

    /// A configuration that cannot be used, and why.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// Reads `url` (see the type's documentation) and the sender (`address` or `Name <address>`).
    /// - Throws: `Invalid`, naming what is wrong.
    public init(url: String, sender: String, heloName: String = "localhost", timeout: Duration = .seconds(30)) throws(Invalid) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw Invalid(description: "\(url) is not a URL such as smtp://host:25 or smtps://user:password@host")
        }
        switch scheme {
        case "smtp": (security, port) = (.none, components.port ?? 25)
        case "smtp+starttls": (security, port) = (.startTLS, components.port ?? 587)
        case "smtps": (security, port) = (.tls, components.port ?? 465)
        default: throw Invalid(description: "the scheme must be smtp, smtp+starttls or smtps, not \(scheme)")
        }
        guard let host = components.host, !host.isEmpty else { throw Invalid(description: "\(url) has no host") }
        guard (1...65535).contains(port) else { throw Invalid(description: "the port must be from 1 to 65535") }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil else {
            throw Invalid(description: "\(url) must have no path, query or fragment")
        }
        self.host = host
        username = components.user?.removingPercentEncoding
        password = components.password?.removingPercentEncoding
        if username != nil, security == .none {
            throw Invalid(description: "a user and password are sent only over TLS: use smtps:// or smtp+starttls://")
        }
        if username != nil, password == nil { throw Invalid(description: "\(url) names a user but no password") }
        do {
            self.sender = try MailAddress(parsing: sender)
        } catch {
            throw Invalid(description: "the sender \(sender.debugDescription): \(error.reason)")
        }
        guard !heloName.isEmpty, heloName.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw Invalid(description: "the EHLO name must be printable ASCII without spaces")
        }
        self.heloName = heloName
        self.timeout = timeout
    }
}

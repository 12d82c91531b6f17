/// A server's reply: a three-digit code and its text lines (RFC 5321 §4.2).
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The reply code, 200 to 599.
    public var code: Int
    /// The text of each line, without the code and separator.
    public var lines: [String]

    /// Creates a reply.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// 2xx: the command succeeded.
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 3xx: go on (DATA's 354, AUTH's 334).
    public var isIntermediate: Bool { (300..<400).contains(code) }
    /// 4xx: refused for now; the same command may succeed later.
    public var isTransient: Bool { (400..<500).contains(code) }
    /// 5xx: refused; the same command will be refused again.
    public var isPermanent: Bool { (500..<600).contains(code) }

    /// `code text`, the lines joined by spaces, at most 500 characters.
    public var description: String {
        String(([String(code)] + lines.filter { !$0.isEmpty }).joined(separator: " ").prefix(500))
    }
}

/// Assembles replies from lines: `250-first`, `250-second`, `250 last`. Pure; fed by the client.
public struct SMTPReplyParser: Sendable {
    private var code: Int?
    private var lines: [String] = []

    /// The longest reply accepted, in lines: a server that never ends its reply is refused.
    public static let maximumLines = 1_000

    /// A line that is not a reply line.
    public struct Malformed: Error, CustomStringConvertible {
        /// The line, cut to 200 characters.
        public var line: String
        public var description: String { "the server sent a line that is not an SMTP reply: \(line.debugDescription)" }
    }

    /// Creates an empty parser.
    public init() {}

    /// Takes one line (without its CRLF).
    /// - Returns: the reply when `line` is its last line, nil while it goes on.
    /// - Throws: `Malformed` for a line without a code, with a different code than the lines before it, or past `maximumLines`.
    public mutating func feed(_ line: String) throws(Malformed) -> SMTPReply? {
        let scalars = Array(line.unicodeScalars.prefix(4))
        guard scalars.count >= 3, scalars[0...2].allSatisfy({ ("0"..."9").contains($0) }),
            let code = Int(String(String.UnicodeScalarView(scalars[0...2]))), (200...599).contains(code),
            scalars.count == 3 || scalars[3] == " " || scalars[3] == "-",
            self.code == nil || self.code == code, lines.count < Self.maximumLines
        else {
            throw Malformed(line: String(line.prefix(200)))
        }
        self.code = code
        let text = String(line.unicodeScalars.dropFirst(4))
        lines.append(text)
        guard scalars.count == 3 || scalars[3] == " " else { return nil }
        let reply = SMTPReply(code: code, lines: lines)
        self.code = nil
        lines = []
        return reply
    }
}

public import Foundation

/// A plain-text message in UTF-8, rendered as RFC 5322 with MIME: the body base64-encoded (so any line
/// length and any character passes every relay), non-ASCII headers as RFC 2047 encoded words.
public struct MailMessage: Sendable, Hashable {
    /// One more header, for example `Auto-Submitted: auto-generated`.
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String
        /// Creates a header; `name` must be ASCII letters, digits and hyphens.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var from: MailAddress
    public var to: MailAddress
    public var subject: String
    /// The text; line ends become CRLF.
    public var text: String
    /// The `Message-ID` without angle brackets (`<id>@<domain>`): the same for every attempt at the same
    /// message, so a receiver can tell a repeat.
    public var messageID: String
    public var date: Date
    public var headers: [Header]

    /// Creates a message.
    public init(
        from: MailAddress, to: MailAddress, subject: String, text: String, messageID: String, date: Date, headers: [Header] = []
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.messageID = messageID
        self.date = date
        self.headers = headers
    }

    /// The message as DATA sends it: CRLF line ends, each line starting with a dot doubled (RFC 5321 §4.5.2),
    /// ending with CRLF but without the closing `.` line.
    public func rendered() -> [UInt8] {
        var lines = [
            "Date: \(Self.formatted(date))",
            "From: \(Self.mailbox(from))",
            "To: \(Self.mailbox(to))",
            "Subject: \(Self.encodedWords(subject))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64",
        ]
        lines += headers.map { "\($0.name): \(Self.encodedWords($0.value))" }
        lines.append("")
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
        let body = Data(normalised.utf8).base64EncodedString()
        var index = body.startIndex
        while index < body.endIndex {
            let end = body.index(index, offsetBy: 76, limitedBy: body.endIndex) ?? body.endIndex
            lines.append(String(body[index..<end]))
            index = end
        }
        var bytes: [UInt8] = []
        for line in lines {
            if line.hasPrefix(".") { bytes.append(UInt8(ascii: ".")) }
            bytes += Array(line.utf8)
            bytes += [13, 10]
        }
        return bytes
    }

    /// `Name <address>` with the name encoded, or `<address>`.
    static func mailbox(_ address: MailAddress) -> String {
        guard let name = address.name, !name.isEmpty else { return "<\(address.address)>" }
        return "\(encodedWords(name)) <\(address.address)>"
    }

    /// Printable ASCII as it is; anything else as `=?UTF-8?B?...?=` words of at most 64 characters (so a folded line stays within 78), folded,
    /// never splitting a character. Control characters become spaces, so a value cannot add a header.
    static func encodedWords(_ value: String) -> String {
        let clean = String(String.UnicodeScalarView(value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        if clean.unicodeScalars.allSatisfy({ $0.isASCII }) && clean.utf8.count <= 900 { return clean }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in clean {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// An RFC 5322 date in China Standard Time (UTC+8 all year), where the readers are.
    static func formatted(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let local = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second, .weekday], from: date.addingTimeInterval(8 * 3600))
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(weekdays[(local.weekday ?? 1) - 1]), \(two(local.day)) \(months[(local.month ?? 1) - 1]) \(local.year ?? 1970) "
            + "\(two(local.hour)):\(two(local.minute)):\(two(local.second)) +0800"
    }
}

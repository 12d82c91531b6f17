/// An e-mail address in the ASCII form SMTP carries without extensions (RFC 5321 §4.1.2, dot-atom only:
/// no quoted local parts, no address literals), which can never break a command line.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    /// `local@domain`.
    public let address: String
    /// A display name for the `From:` header, if any (any Unicode; encoded as RFC 2047 words).
    public let name: String?

    /// The longest address accepted (RFC 5321 §4.5.3.1.3's path limit less its angle brackets).
    public static let maximumLength = 254

    /// Checks and keeps an address.
    /// - Throws: the reason it is not an address, in words (`Invalid`).
    public init(_ address: String, name: String? = nil) throws(Invalid) {
        if let reason = Self.problem(address) { throw Invalid(reason: reason) }
        if let name, name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw Invalid(reason: "the display name has a control character")
        }
        self.address = address
        self.name = name
    }

    /// Parses `address` or `Name <address>`.
    public init(parsing text: String) throws(Invalid) {
        let trimmed = text.trimmingCharacters(in: " ")
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            let name = String(trimmed[..<open]).trimmingCharacters(in: " ")
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            try self.init(address, name: name.isEmpty ? nil : name)
        } else {
            try self.init(trimmed)
        }
    }

    /// An address that is refused, and why.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        /// Why, in words: "has no @", "the domain ...".
        public var reason: String
        public var description: String { reason }
    }

    public var description: String { address }

    /// Why `address` is not an address this system sends to, or nil when it is.
    public static func problem(_ address: String) -> String? {
        let scalars = Array(address.unicodeScalars)
        guard !scalars.isEmpty else { return "is empty" }
        guard scalars.count <= maximumLength else { return "must have at most \(maximumLength) characters" }
        guard scalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            return "must be ASCII without spaces or control characters"
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "must have exactly one @" }
        let local = parts[0]
        let domain = parts[1]
        guard (1...64).contains(local.count) else { return "the part before @ must have 1 to 64 characters" }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-")
        let atoms = local.split(separator: ".", omittingEmptySubsequences: false)
        guard atoms.allSatisfy({ !$0.isEmpty && $0.allSatisfy(atext.contains) }) else {
            return "the part before @ may hold letters, digits and !#$%&'*+/=?^_`{|}~- with single dots between them"
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let labelCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
        guard labels.count >= 2,
            labels.allSatisfy({
                (1...63).contains($0.count) && $0.allSatisfy(labelCharacters.contains) && $0.first != "-" && $0.last != "-"
            })
        else {
            return "the domain must be two or more labels of letters, digits and inner hyphens, separated by dots"
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var view = Substring(self)
        while view.first == character { view = view.dropFirst() }
        while view.last == character { view = view.dropLast() }
        return String(view)
    }
}

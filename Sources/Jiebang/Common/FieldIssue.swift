import Foundation

/// One thing wrong with one field of a request: what the API lists in a problem's `errors`.
public struct FieldIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The field's name as the client sent it, for example `contactEmail` or `indicators[2]`.
    public var field: String
    /// Why the value is not accepted, in a sentence a person can act on.
    public var message: String

    /// Creates an issue.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Collects field issues while checking an input, so that every problem is reported at once.
public struct FieldChecker: Sendable {
    /// The issues found so far.
    public private(set) var issues: [FieldIssue] = []

    /// Creates an empty checker.
    public init() {}

    /// Records an issue.
    public mutating func add(_ field: String, _ message: String) {
        issues.append(FieldIssue(field: field, message: message))
    }

    /// Requires `text`, trimmed, to have between `range` characters, and no control character but
    /// tab, line feed and carriage return (a long text keeps its lines).
    ///
    /// Characters are counted as the database's `char_length` counts them, in Unicode code points.
    public mutating func length(_ field: @autoclosure () -> String, _ text: String, _ range: ClosedRange<Int>) {
        guard controlCharacters(field(), text.unicodeScalars, singleLine: false) else { return }
        let count = Self.trimmedLength(text)
        if count == 0, range.lowerBound > 0 {
            add(field(), "is required")
        } else if !range.contains(count) {
            add(field(), "must have \(range.lowerBound) to \(range.upperBound) characters, not \(count)")
        }
    }

    /// Requires a name: `text`, trimmed, on one line (no control character at all, tab and line breaks
    /// included), with between `range` characters.
    public mutating func name(_ field: @autoclosure () -> String, _ text: String, _ range: ClosedRange<Int>) {
        guard controlCharacters(field(), Self.trimmedScalars(text), singleLine: true) else { return }
        length(field(), text, range)
    }

    /// Records an issue when `text` holds a control character (Unicode category Cc: U+0000–U+001F,
    /// U+007F–U+009F), except tab, line feed and carriage return when it is not `singleLine`.
    /// - Returns: whether `text` has none.
    mutating func controlCharacters(
        _ field: @autoclosure () -> String, _ text: some Sequence<Unicode.Scalar>, singleLine: Bool
    ) -> Bool {
        guard let scalar = Self.controlCharacter(inScalars: text, singleLine: singleLine) else { return true }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        add(
            field(),
            singleLine && ["\t", "\n", "\r"].contains(scalar)
                ? "must be one line, without tabs or line breaks (\(code))" : "must not contain the control character \(code)")
        return false
    }

    /// The first control character of `text` that a field refuses; see `controlCharacters`.
    ///
    /// Category Cc is fixed by Unicode's stability policy to exactly those 65 code points, so they are
    /// compared directly rather than looked up in the character database for every scalar.
    public static func controlCharacter(in text: String, singleLine: Bool) -> Unicode.Scalar? {
        controlCharacter(inScalars: text.unicodeScalars, singleLine: singleLine)
    }

    private static func controlCharacter(inScalars scalars: some Sequence<Unicode.Scalar>, singleLine: Bool) -> Unicode.Scalar? {
        scalars.first { scalar in
            let value = scalar.value
            guard value < 0x20 || (0x7F...0x9F).contains(value) else { return false }
            return singleLine || (value != 0x09 && value != 0x0A && value != 0x0D)
        }
    }

    /// The code points of `text` between its first and last character that is not white space.
    static func trimmedLength(_ text: String) -> Int {
        trimmedScalars(text).count
    }

    /// The code points of `text` between its first and last that is not white space (`trimmingWhiteSpace`).
    static func trimmedScalars(_ text: String) -> Substring.UnicodeScalarView {
        text.trimmingWhiteSpace().unicodeScalars
    }

    /// Requires at most `limit` characters (Unicode code points, as the database's `char_length`) and no
    /// control character but tab, line feed and carriage return.
    public mutating func maxLength(_ field: @autoclosure () -> String, _ text: String, _ limit: Int) {
        guard controlCharacters(field(), text.unicodeScalars, singleLine: false) else { return }
        let count = text.unicodeScalars.count
        if count > limit { add(field(), "must have at most \(limit) characters, not \(count)") }
    }

    /// Requires a phone number: digits, spaces and dashes, 6 to 20 characters, an optional leading +.
    public mutating func phone(_ field: String, _ text: String) {
        if !Self.isPhone(text) { add(field, "is not a phone number (digits, spaces and dashes, 6 to 20 characters)") }
    }

    /// Requires an e-mail address of the form name@domain.tld.
    public mutating func email(_ field: String, _ text: String) {
        if !Self.isEmail(text) { add(field, "is not an e-mail address") }
    }

    /// The phone rule, the same regular expression as the database's `*_contact_phone_format` checks.
    public static func isPhone(_ text: String) -> Bool {
        text.range(of: #"^\+?[0-9][0-9 -]{5,19}$"#, options: .regularExpression) != nil
    }

    /// The e-mail rule, the same regular expression as the database's `*_contact_email_format` checks.
    public static func isEmail(_ text: String) -> Bool {
        text.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) != nil
    }

    /// Requires `value` in `range`.
    public mutating func range<T: Comparable>(_ field: String, _ value: T, _ range: ClosedRange<T>) {
        if !range.contains(value) { add(field, "must be between \(range.lowerBound) and \(range.upperBound), not \(value)") }
    }

    /// Throws `DomainError.invalid` with every issue, if any was found.
    public func check() throws(DomainError) {
        if !issues.isEmpty { throw DomainError.invalid(issues) }
    }
}

extension StringProtocol {
    /// The text without the white space at either end: Unicode's White_Space property (spaces of every
    /// width, tab, line breaks), the set Foundation's `whitespacesAndNewlines` holds but for U+200B, which
    /// Unicode no longer counts as white space.
    ///
    /// Foundation's `trimmingCharacters(in:)` bridges to `NSString` on Linux; this stays in Swift, and
    /// answers ASCII without a table lookup.
    public func trimmingWhiteSpace() -> Substring {
        let text = Substring(self)
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isWhiteSpace }),
            let last = scalars.lastIndex(where: { !$0.isWhiteSpace })
        else { return text[text.endIndex...] }
        return Substring(scalars[first...last])
    }
}

extension Unicode.Scalar {
    /// Unicode's White_Space property, answered without a table lookup for ASCII.
    var isWhiteSpace: Bool {
        if value < 0x80 { return value == 0x20 || (0x09...0x0D).contains(value) }
        return properties.isWhitespace
    }
}

extension CronExpression {
    /// The grammar of one crontab field.
    struct FieldGrammar {
        let field: ParseError.Field
        /// Values accepted in the text.
        let range: ClosedRange<Int>
        /// Values `*` expands to (day-of-week uses 0–6 although 7 is accepted as Sunday).
        let wildcardRange: ClosedRange<Int>
        /// Three-letter names, the first one meaning `nameBase`.
        let names: [String]
        let nameBase: Int

        static let minute = FieldGrammar(field: .minute, range: 0...59, wildcardRange: 0...59, names: [], nameBase: 0)
        static let hour = FieldGrammar(field: .hour, range: 0...23, wildcardRange: 0...23, names: [], nameBase: 0)
        static let dayOfMonth = FieldGrammar(field: .dayOfMonth, range: 1...31, wildcardRange: 1...31, names: [], nameBase: 1)
        static let month = FieldGrammar(
            field: .month,
            range: 1...12,
            wildcardRange: 1...12,
            names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
            nameBase: 1
        )
        static let dayOfWeek = FieldGrammar(
            field: .dayOfWeek,
            range: 0...7,
            wildcardRange: 0...6,
            names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
            nameBase: 0
        )
    }

    /// The five-field form of each supported macro.
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
        "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    /// Splits an expression (or expands a macro) into its five field texts.
    static func fieldTexts(of expression: String) throws(ParseError) -> [Substring] {
        var text = expression.trimmingWhitespace()
        if text.hasPrefix("@") {
            guard let expansion = macros[text.lowercased()] else {
                throw ParseError(expression: expression, field: nil, reason: .unknownMacro(text))
            }
            text = expansion
        }
        let fields = text.split(whereSeparator: { $0.isWhitespace })
        guard fields.count == 5 else {
            throw ParseError(expression: expression, field: nil, reason: .wrongFieldCount(fields.count))
        }
        return fields
    }

    /// Parses one field into the set of values it allows.
    static func parseField(_ text: Substring, grammar: FieldGrammar) throws(ParseError.Reason) -> CronFieldSet {
        var set = CronFieldSet()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let (lower, upper, step) = try parseItem(item, grammar: grammar)
            for value in stride(from: lower, through: upper, by: step) {
                set.insert(grammar.field == .dayOfWeek && value == 7 ? 0 : value)
            }
        }
        return set
    }

    /// Parses `*`, `n`, `a-b`, each optionally followed by `/step`; `n/step` means `n-max/step`.
    private static func parseItem(
        _ item: Substring,
        grammar: FieldGrammar
    ) throws(ParseError.Reason) -> (lower: Int, upper: Int, step: Int) {
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw .invalidStep(String(item)) }
        var step = 1
        if parts.count == 2 {
            guard parts[1].allSatisfy(\.isASCIIDigit), let parsed = Int(parts[1]), parsed > 0 else {
                throw .invalidStep(String(parts[1]))
            }
            step = parsed
        }
        let rangeText = parts[0]
        if rangeText == "*" {
            return (grammar.wildcardRange.lowerBound, grammar.wildcardRange.upperBound, step)
        }
        let bounds = rangeText.split(separator: "-", omittingEmptySubsequences: false)
        switch bounds.count {
        case 1:
            let value = try parseValue(bounds[0], grammar: grammar)
            return (value, parts.count == 2 ? max(value, grammar.wildcardRange.upperBound) : value, step)
        case 2:
            let lower = try parseValue(bounds[0], grammar: grammar)
            let upper = try parseValue(bounds[1], grammar: grammar)
            guard lower <= upper else { throw .reversedRange(lower: lower, upper: upper) }
            return (lower, upper, step)
        default:
            throw .invalidValue(String(rangeText))
        }
    }

    private static func parseValue(_ token: Substring, grammar: FieldGrammar) throws(ParseError.Reason) -> Int {
        guard !token.isEmpty else { throw .missingValue }
        if token.allSatisfy(\.isASCIIDigit) {
            guard let value = Int(token) else { throw .invalidValue(String(token)) }
            guard grammar.range.contains(value) else { throw .outOfRange(value: value, range: grammar.range) }
            return value
        }
        guard let index = grammar.names.firstIndex(of: token.uppercased()) else {
            throw .invalidValue(String(token))
        }
        return grammar.nameBase + index
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool {
        isASCII && isNumber
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let characters = drop(while: \.isWhitespace)
        return String(characters.reversed().drop(while: \.isWhitespace).reversed())
    }
}

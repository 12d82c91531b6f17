extension CronExpression {
    /// Why a crontab expression could not be parsed, naming the offending field.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// A field of the five-field crontab format.
        public enum Field: String, Sendable, Hashable, CaseIterable {
            /// The first field, 0–59.
            case minute
            /// The second field, 0–23.
            case hour
            /// The third field, 1–31.
            case dayOfMonth = "day-of-month"
            /// The fourth field, 1–12 or JAN–DEC.
            case month
            /// The fifth field, 0–7 (0 and 7 are Sunday) or SUN–SAT.
            case dayOfWeek = "day-of-week"
        }

        /// What exactly is wrong.
        public enum Reason: Error, Sendable, Hashable, CustomStringConvertible {
            /// The expression does not have exactly five whitespace-separated fields.
            case wrongFieldCount(Int)
            /// An `@` macro that is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.
            case unknownMacro(String)
            /// A list item or range bound is empty (as in `1,,2` or `1-`).
            case missingValue
            /// A token is neither a number nor a name valid for the field.
            case invalidValue(String)
            /// A number lies outside the field's range.
            case outOfRange(value: Int, range: ClosedRange<Int>)
            /// A range whose start is after its end.
            case reversedRange(lower: Int, upper: Int)
            /// A step that is not a positive integer.
            case invalidStep(String)

            /// A readable explanation, such as "25 is out of range 0–23".
            public var description: String {
                switch self {
                case .wrongFieldCount(let count):
                    "expected 5 fields (minute hour day-of-month month day-of-week) but found \(count)"
                case .unknownMacro(let macro):
                    "unknown macro \(macro)"
                case .missingValue:
                    "a value is missing"
                case .invalidValue(let token):
                    "\"\(token)\" is not a valid number or name"
                case .outOfRange(let value, let range):
                    "\(value) is out of range \(range.lowerBound)–\(range.upperBound)"
                case .reversedRange(let lower, let upper):
                    "range \(lower)-\(upper) starts after it ends"
                case .invalidStep(let step):
                    "step \"\(step)\" is not a positive integer"
                }
            }
        }

        /// The expression as given.
        public let expression: String
        /// The field at fault, or `nil` when the expression as a whole is malformed (field count, macro).
        public let field: Field?
        /// The cause.
        public let reason: Reason

        /// Creates a parse error.
        ///
        /// - Parameters:
        ///   - expression: The expression as given.
        ///   - field: The field at fault, if any.
        ///   - reason: The cause.
        public init(expression: String, field: Field?, reason: Reason) {
            self.expression = expression
            self.field = field
            self.reason = reason
        }

        /// A readable message, such as `invalid cron expression "0 25 * * *": hour: 25 is out of range 0–23`.
        public var description: String {
            let location = field.map { "\($0.rawValue): " } ?? ""
            return "invalid cron expression \"\(expression)\": \(location)\(reason)"
        }
    }
}

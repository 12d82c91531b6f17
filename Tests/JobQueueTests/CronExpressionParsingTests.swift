import Foundation
import JobQueue
import Testing

@Suite("CronExpression parsing")
struct CronExpressionParsingTests {
    struct Fields: Sendable, CustomTestStringConvertible {
        var expression: String
        var minutes: [Int]? = nil
        var hours: [Int]? = nil
        var daysOfMonth: [Int]? = nil
        var months: [Int]? = nil
        var daysOfWeek: [Int]? = nil

        var testDescription: String { expression }
    }

    static let syntaxCases: [Fields] = [
        Fields(expression: "* * * * *", minutes: Array(0...59), hours: Array(0...23), daysOfMonth: Array(1...31), months: Array(1...12), daysOfWeek: Array(0...6)),
        Fields(expression: "7 * * * *", minutes: [7]),
        Fields(expression: "1,2,40 * * * *", minutes: [1, 2, 40]),
        Fields(expression: "1-5 * * * *", minutes: [1, 2, 3, 4, 5]),
        Fields(expression: "*/15 * * * *", minutes: [0, 15, 30, 45]),
        Fields(expression: "1-30/5 * * * *", minutes: [1, 6, 11, 16, 21, 26]),
        Fields(expression: "5/20 * * * *", minutes: [5, 25, 45]),
        Fields(expression: "0 9-17/4,23 * * *", hours: [9, 13, 17, 23]),
        Fields(expression: "0 0 1,15 * *", daysOfMonth: [1, 15]),
        Fields(expression: "0 0 * JAN-MAR *", months: [1, 2, 3]),
        Fields(expression: "0 0 * jan,Jun,DEC *", months: [1, 6, 12]),
        Fields(expression: "0 0 * */3 *", months: [1, 4, 7, 10]),
        Fields(expression: "0 0 * * MON-FRI", daysOfWeek: [1, 2, 3, 4, 5]),
        Fields(expression: "0 0 * * sun", daysOfWeek: [0]),
        Fields(expression: "0 0 * * 7", daysOfWeek: [0]),
        Fields(expression: "0 0 * * 0,7", daysOfWeek: [0]),
        Fields(expression: "0 0 * * 5-7", daysOfWeek: [0, 5, 6]),
        Fields(expression: "0 0 * * */2", daysOfWeek: [0, 2, 4, 6]),
        Fields(expression: "  0\t12  * *   *  ", minutes: [0], hours: [12]),
    ]

    @Test("every syntax form expands to the expected values", arguments: syntaxCases)
    func syntax(fields: Fields) throws {
        let expression = try CronExpression(fields.expression)
        if let minutes = fields.minutes { #expect(expression.minutes == minutes) }
        if let hours = fields.hours { #expect(expression.hours == hours) }
        if let days = fields.daysOfMonth { #expect(expression.daysOfMonth == days) }
        if let months = fields.months { #expect(expression.months == months) }
        if let days = fields.daysOfWeek { #expect(expression.daysOfWeek == days) }
    }

    @Test("macros equal their five-field forms and keep their spelling", arguments: [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"), ("@DAILY", "0 0 * * *"),
    ])
    func macros(macro: String, expansion: String) throws {
        let expression = try CronExpression(macro)
        #expect(expression == (try CronExpression(expansion)))
        #expect(expression.description == macro)
    }

    @Test("the either-day rule applies only when neither day field starts with a star", arguments: [
        ("0 0 13 * FRI", true), ("0 0 13 * *", false), ("0 0 * * FRI", false), ("0 0 */2 * FRI", false), ("0 0 13 * */2", false),
    ])
    func eitherDayRule(text: String, either: Bool) throws {
        #expect(try CronExpression(text).matchesEitherDayField == either)
    }

    @Test("an expression round-trips through Codable as its source string")
    func codable() throws {
        let expression = try CronExpression("*/5 9-17 * * MON-FRI")
        let data = try JSONEncoder().encode([expression])
        #expect(String(decoding: data, as: UTF8.self) == #"["*\/5 9-17 * * MON-FRI"]"#)
        let decoded = try JSONDecoder().decode([CronExpression].self, from: data)
        #expect(decoded == [expression])
        #expect(decoded.first?.source == expression.source)
    }

    @Test("decoding an invalid expression fails")
    func decodingInvalid() {
        #expect(throws: CronExpression.ParseError.self) {
            try JSONDecoder().decode([CronExpression].self, from: Data(#"["0 25 * * *"]"#.utf8))
        }
    }

    typealias Reason = CronExpression.ParseError.Reason
    typealias Field = CronExpression.ParseError.Field

    static let errorCases: [(String, Field?, Reason)] = [
        ("60 * * * *", .minute, .outOfRange(value: 60, range: 0...59)),
        ("0 25 * * *", .hour, .outOfRange(value: 25, range: 0...23)),
        ("0 0 0 * *", .dayOfMonth, .outOfRange(value: 0, range: 1...31)),
        ("0 0 32 * *", .dayOfMonth, .outOfRange(value: 32, range: 1...31)),
        ("0 0 * 13 *", .month, .outOfRange(value: 13, range: 1...12)),
        ("0 0 * * 8", .dayOfWeek, .outOfRange(value: 8, range: 0...7)),
        ("0 0 * FOO *", .month, .invalidValue("FOO")),
        ("0 0 MON * *", .dayOfMonth, .invalidValue("MON")),
        ("0 JAN * * *", .hour, .invalidValue("JAN")),
        ("0 0 * * MONDAY", .dayOfWeek, .invalidValue("MONDAY")),
        ("5-1 * * * *", .minute, .reversedRange(lower: 5, upper: 1)),
        ("0 0 * * FRI-MON", .dayOfWeek, .reversedRange(lower: 5, upper: 1)),
        ("*/0 * * * *", .minute, .invalidStep("0")),
        ("*/x * * * *", .minute, .invalidStep("x")),
        ("*/ * * * *", .minute, .invalidStep("")),
        ("1/2/3 * * * *", .minute, .invalidStep("1/2/3")),
        ("1,,2 * * * *", .minute, .missingValue),
        ("1- * * * *", .minute, .missingValue),
        ("-1 * * * *", .minute, .missingValue),
        ("1-2-3 * * * *", .minute, .invalidValue("1-2-3")),
        ("99999999999999999999 * * * *", .minute, .invalidValue("99999999999999999999")),
        ("* * * *", nil, .wrongFieldCount(4)),
        ("* * * * * *", nil, .wrongFieldCount(6)),
        ("", nil, .wrongFieldCount(0)),
        ("@reboot", nil, .unknownMacro("@reboot")),
    ]

    @Test("each malformed expression names the field and the reason", arguments: errorCases)
    func errors(text: String, field: Field?, reason: Reason) throws {
        let error = try #require(throws: CronExpression.ParseError.self) {
            try CronExpression(text)
        }
        #expect(error.field == field)
        #expect(error.reason == reason)
        #expect(error.expression == text)
    }

    @Test("an error's description reads like a sentence naming field and reason")
    func errorDescription() throws {
        let error = try #require(throws: CronExpression.ParseError.self) {
            try CronExpression("0 25 * * *")
        }
        #expect(error.description == #"invalid cron expression "0 25 * * *": hour: 25 is out of range 0–23"#)
    }

    @Test("a whole-expression error description has no field prefix")
    func fieldlessDescription() throws {
        let error = try #require(throws: CronExpression.ParseError.self) {
            try CronExpression("* * *")
        }
        #expect(error.description == #"invalid cron expression "* * *": expected 5 fields (minute hour day-of-month month day-of-week) but found 3"#)
    }
}

import Foundation
import JobQueue
import Testing

@Suite("CronExpression evaluation")
struct CronExpressionEvaluationTests {
    @Test("next fire dates in Asia/Shanghai", arguments: [
        ("0 9 10 12 *", "2024-06-01T00:00:00+08:00", "2024-12-10T01:00:00Z"),
        ("0 9 10 12 *", "2024-12-10T09:00:00+08:00", "2025-12-10T01:00:00Z"),
        ("0 9 10 12 *", "2024-12-10T08:59:59+08:00", "2024-12-10T09:00:00+08:00"),
        ("*/15 * * * *", "2024-03-01T00:07:30+08:00", "2024-03-01T00:15:00+08:00"),
        ("*/15 * * * *", "2024-03-01T00:15:00+08:00", "2024-03-01T00:30:00+08:00"),
        ("*/15 * * * *", "2024-03-01T23:50:00+08:00", "2024-03-02T00:00:00+08:00"),
        ("0 0 * * 1-5", "2024-06-07T00:00:00+08:00", "2024-06-10T00:00:00+08:00"),
        ("0 0 * * 1-5", "2024-06-04T12:00:00+08:00", "2024-06-05T00:00:00+08:00"),
        ("0 0 29 2 *", "2024-03-01T00:00:00+08:00", "2028-02-29T00:00:00+08:00"),
        ("0 0 29 2 *", "2096-03-01T00:00:00+08:00", "2104-02-29T00:00:00+08:00"),
        ("0 0 30 2 MON", "2024-01-01T00:00:00+08:00", "2024-02-05T00:00:00+08:00"),
        ("0 0 */10 * FRI", "2024-09-01T00:00:00+08:00", "2024-10-11T00:00:00+08:00"),
        ("@hourly", "2024-05-05T10:30:00+08:00", "2024-05-05T11:00:00+08:00"),
        ("@yearly", "2024-05-05T10:30:00+08:00", "2025-01-01T00:00:00+08:00"),
        ("@weekly", "2024-09-01T00:00:00+08:00", "2024-09-08T00:00:00+08:00"),
        ("59 23 31 12 *", "2024-12-31T23:59:00+08:00", "2025-12-31T23:59:00+08:00"),
    ])
    func nextInShanghai(text: String, after: String, expected: String) throws {
        let next = try CronExpression(text).nextFireDate(after: try instant(after), in: shanghai)
        #expect(next == (try instant(expected)))
    }

    @Test("when both day fields are restricted a day matches if either matches")
    func eitherDayField() throws {
        let dates = try CronExpression("0 0 13 * FRI").fireDates(
            from: try instant("2024-09-01T00:00:00+08:00"),
            through: try instant("2024-10-31T00:00:00+08:00"),
            in: shanghai,
            limit: 8
        )
        let expected = try [
            "2024-09-06", "2024-09-13", "2024-09-20", "2024-09-27", "2024-10-04", "2024-10-11", "2024-10-13", "2024-10-18",
        ].map { try instant("\($0)T00:00:00+08:00") }
        #expect(dates == expected)
    }

    @Test("day 31 skips the months that do not have one")
    func thirtyFirst() throws {
        let dates = try CronExpression("0 0 31 * *").fireDates(
            from: try instant("2024-01-31T00:00:00+08:00"),
            through: try instant("2025-01-01T00:00:00+08:00"),
            in: shanghai,
            limit: 100
        )
        let expected = try ["2024-03-31", "2024-05-31", "2024-07-31", "2024-08-31", "2024-10-31", "2024-12-31"]
            .map { try instant("\($0)T00:00:00+08:00") }
        #expect(dates == expected)
    }

    @Test("an expression that can never fire returns nil instead of looping", arguments: [
        "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30-31 FEB *",
    ])
    func neverFires(text: String) throws {
        let expression = try CronExpression(text)
        let date = try instant("2024-01-01T00:00:00Z")
        #expect(expression.nextFireDate(after: date, in: shanghai) == nil)
        #expect(expression.previousFireDate(atOrBefore: date, in: shanghai) == nil)
        #expect(expression.fireDates(from: date, through: date.addingTimeInterval(1e9), in: shanghai, limit: 5).isEmpty)
    }

    @Test("a rare but possible date is found decades ahead")
    func rareDate() throws {
        let next = try #require(try CronExpression("0 0 29 2 */7").nextFireDate(after: try instant("2024-03-01T00:00:00Z"), in: shanghai))
        #expect(next == (try instant("2032-02-29T00:00:00+08:00")))
    }

    @Test("fire dates cover the half-open interval from exclusive to inclusive and honour the limit")
    func fireDatesInterval() throws {
        let expression = try CronExpression("*/15 * * * *")
        let from = try instant("2024-03-01T00:00:00+08:00")
        let through = try instant("2024-03-01T01:00:00+08:00")
        let all = expression.fireDates(from: from, through: through, in: shanghai, limit: 100)
        #expect(all == [15, 30, 45, 60].map { from.addingTimeInterval(Double($0) * 60) })
        #expect(expression.fireDates(from: from, through: through, in: shanghai, limit: 2) == Array(all.prefix(2)))
        #expect(expression.latestFireDates(from: from, through: through, in: shanghai, limit: 2) == Array(all.suffix(2)))
    }

    @Test("fire dates fall on whole minutes even after a fractional instant")
    func wholeMinutes() throws {
        let start = try instant("2024-03-01T00:07:30+08:00").addingTimeInterval(0.123)
        let dates = try CronExpression("* * * * *").fireDates(from: start, through: start.addingTimeInterval(600), in: shanghai, limit: 20)
        #expect(dates.count == 10)
        #expect(dates.allSatisfy { $0.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) == 0 })
        #expect(dates.first == (try instant("2024-03-01T00:08:00+08:00")))
    }

    @Test("the previous fire date includes the given instant itself", arguments: [
        ("2024-06-01T09:00:00+08:00", "2024-06-01T09:00:00+08:00"),
        ("2024-06-01T08:59:59+08:00", "2024-05-31T09:00:00+08:00"),
        ("2024-06-01T09:00:01+08:00", "2024-06-01T09:00:00+08:00"),
    ])
    func previous(at: String, expected: String) throws {
        let previous = try CronExpression("0 9 * * *").previousFireDate(atOrBefore: try instant(at), in: shanghai)
        #expect(previous == (try instant(expected)))
    }

    @Test("next and previous agree with a minute-by-minute scan", arguments: [
        "*/7 */5 * * *", "0 0 13 * FRI", "30 4 1-7 * MON", "15 3 */10 JAN,JUL *", "0 12 * * SAT,SUN",
    ])
    func agreesWithScan(text: String) throws {
        let expression = try CronExpression(text)
        let start = try instant("2024-01-01T00:00:00+08:00")
        let end = start.addingTimeInterval(60 * 86_400)
        var scanned: [Date] = []
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = shanghai
        let minutes = Set(expression.minutes), hours = Set(expression.hours), months = Set(expression.months)
        let daysOfMonth = Set(expression.daysOfMonth), daysOfWeek = Set(expression.daysOfWeek)
        var minute = start.addingTimeInterval(60)
        while minute <= end {
            let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: minute)
            let dayOfMonth = daysOfMonth.contains(parts.day!)
            let dayOfWeek = daysOfWeek.contains(parts.weekday! - 1)
            let dayMatches = expression.matchesEitherDayField ? dayOfMonth || dayOfWeek : dayOfMonth && dayOfWeek
            if minutes.contains(parts.minute!), hours.contains(parts.hour!), months.contains(parts.month!), dayMatches {
                scanned.append(minute)
            }
            minute.addTimeInterval(60)
        }
        #expect(expression.fireDates(from: start, through: end, in: shanghai, limit: 10_000) == scanned)
        #expect(expression.latestFireDates(from: start, through: end, in: shanghai, limit: 10_000) == scanned)
    }

    @Test("in New York a time skipped by spring-forward does not fire that day")
    func springForwardSkips() throws {
        let expression = try CronExpression("30 2 * * *")
        let next = expression.nextFireDate(after: try instant("2024-03-09T12:00:00-05:00"), in: newYork)
        #expect(next == (try instant("2024-03-11T02:30:00-04:00")))
        let halfHourly = try CronExpression("*/30 * * * *")
        #expect(halfHourly.nextFireDate(after: try instant("2024-03-10T01:30:00-05:00"), in: newYork) == (try instant("2024-03-10T03:00:00-04:00")))
    }

    @Test("in New York a time repeated by fall-back fires once, at its first occurrence")
    func fallBackFiresOnce() throws {
        let daily = try CronExpression("30 1 * * *").fireDates(
            from: try instant("2024-11-02T12:00:00-04:00"),
            through: try instant("2024-11-04T12:00:00-05:00"),
            in: newYork,
            limit: 10
        )
        #expect(daily == [try instant("2024-11-03T01:30:00-04:00"), try instant("2024-11-04T01:30:00-05:00")])

        let hourly = try CronExpression("0 * * * *").fireDates(
            from: try instant("2024-11-03T04:30:00Z"),
            through: try instant("2024-11-03T08:30:00Z"),
            in: newYork,
            limit: 10
        )
        #expect(hourly == [try instant("2024-11-03T05:00:00Z"), try instant("2024-11-03T07:00:00Z"), try instant("2024-11-03T08:00:00Z")])
    }

    @Test("during the repeated hour the next and previous fire dates do not repeat slots")
    func insideRepeatedHour() throws {
        let expression = try CronExpression("*/15 * * * *")
        let secondOneTen = try instant("2024-11-03T01:10:00-05:00")
        #expect(expression.nextFireDate(after: secondOneTen, in: newYork) == (try instant("2024-11-03T02:00:00-05:00")))
        #expect(expression.previousFireDate(atOrBefore: secondOneTen, in: newYork) == (try instant("2024-11-03T01:45:00-04:00")))
        #expect(expression.nextFireDate(after: try instant("2024-11-03T01:45:00-04:00"), in: newYork) == (try instant("2024-11-03T02:00:00-05:00")))
    }
}

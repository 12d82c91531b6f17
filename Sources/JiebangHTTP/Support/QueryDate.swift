import Foundation

/// A date filter's value from a query string: a date-time is that instant; a date without a time
/// (`2025-05-31`) is that whole day in Asia/Shanghai, from its 00:00 to the next day's 00:00.
///
/// So `deadlineFrom=2025-05-31` admits deadlines from 2025-05-31T00:00+08:00 and
/// `deadlineTo=2025-05-31` those before 2025-06-01T00:00+08:00; `deadlineTo=2025-05-31T18:00:00+08:00`
/// admits those up to and including 18:00.
enum QueryDate: Equatable {
    /// A date-time: one instant.
    case instant(Date)
    /// A date: the day from `start` up to, not including, `end` (the next day's start).
    case day(start: Date, end: Date)

    /// The zone whose days a date without a time means.
    static let zone = TimeZone(identifier: "Asia/Shanghai")!

    /// What the parameter accepts, for a problem's message.
    static let expected = "a date (2025-05-31, a whole day in Asia/Shanghai) or a date-time (2025-05-31T09:00:00+08:00)"

    /// Why a value was refused.
    enum Refusal: Error, Equatable {
        /// Neither a date nor a date-time, or a date that does not exist (2025-02-30).
        case unreadable
        /// A date-time outside `RequestDates`.
        case outOfRange
    }

    /// Reads `text` as `YYYY-MM-DD` (a calendar date that exists) or an ISO 8601 date-time in `RequestDates`.
    /// - Throws: `Refusal`.
    static func parse(_ text: String) throws(Refusal) -> QueryDate {
        if let (year, month, day) = dateParts(text) {
            guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else {
                throw .unreadable
            }
            // Dates run from 0001-01-01 to 9999-12-31; the first and last days are clamped to
            // `RequestDates`, whose bounds no stored deadline passes.
            let start = max(startInShanghai(year: year, month: month, day: day), RequestDates.earliest)
            let next =
                day < daysIn(month: month, year: year)
                ? (year, month, day + 1) : month < 12 ? (year, month + 1, 1) : (year + 1, 1, 1)
            let end = min(startInShanghai(year: next.0, month: next.1, day: next.2), RequestDates.latest)
            return .day(start: start, end: end)
        }
        guard let instant = try? Date.ISO8601FormatStyle().parse(text) else { throw .unreadable }
        guard RequestDates.contains(instant) else { throw .outOfRange }
        return .instant(instant)
    }

    /// The earliest instant a `…From` filter admits.
    var lowerBound: Date {
        switch self {
        case .instant(let date): date
        case .day(let start, _): start
        }
    }

    /// `YYYY-MM-DD` in ASCII digits, year 0001 to 9999.
    private static func dateParts(_ text: String) -> (Int, Int, Int)? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), year >= 1, let month = number(5..<7), let day = number(8..<10) else { return nil }
        return (year, month, day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// 00:00 of a (proleptic Gregorian) day in Asia/Shanghai, with the zone's offset at that time.
    private static func startInShanghai(year: Int, month: Int, day: Int) -> Date {
        // Days from 1970-01-01 to the date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let midnightUTC = Date(timeIntervalSince1970: Double(era * 146_097 + dayOfEra - 719_468) * 86_400)
        let offset = zone.secondsFromGMT(for: midnightUTC.addingTimeInterval(-8 * 3_600))
        return midnightUTC.addingTimeInterval(-Double(offset))
    }
}

/// Whether `text` reads as a query date: `QueryDate.parse` for the fuzz target, which sees the package's API only.
package func queryDateParses(_ text: String) -> Bool {
    (try? QueryDate.parse(text)) != nil
}

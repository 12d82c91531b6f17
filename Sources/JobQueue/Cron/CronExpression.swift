public import Foundation

/// A standard five-field crontab expression: minute, hour, day-of-month, month, day-of-week.
///
/// Supported syntax: `*`, numbers, lists (`1,2`), ranges (`1-5`), steps (`*/15`, `1-30/5`, and `5/15` meaning
/// `5-max/15`), case-insensitive month and weekday names (`JAN`–`DEC`, `SUN`–`SAT`, also inside ranges),
/// 0 and 7 both meaning Sunday, and the macros `@yearly`/`@annually`, `@monthly`, `@weekly`,
/// `@daily`/`@midnight` and `@hourly`.
///
/// Day matching follows Vixie cron: when both day-of-month and day-of-week are restricted (neither field starts
/// with `*`), a day matches if *either* matches; otherwise both must match. As in Vixie cron, a field such as
/// `*/2` starts with `*` and therefore counts as unrestricted for this rule.
///
/// Evaluation works on wall-clock time in a given time zone: a local time skipped by a DST change never fires,
/// and a local time that occurs twice fires once, at its first occurrence. All fire dates fall on whole minutes.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The expression as written (a macro stays a macro).
    public let source: String

    let minuteSet: CronFieldSet
    let hourSet: CronFieldSet
    let dayOfMonthSet: CronFieldSet
    let monthSet: CronFieldSet
    let dayOfWeekSet: CronFieldSet
    let dayOfMonthIsWildcard: Bool
    let dayOfWeekIsWildcard: Bool
    /// Whether some calendar day can ever satisfy the month and day fields (false for, e.g., `0 0 30 2 *`).
    let canEverFire: Bool

    /// Parses a crontab expression.
    ///
    /// - Parameter expression: Five whitespace-separated fields or a macro such as `@daily`.
    /// - Throws: ``ParseError`` naming the field and the reason.
    public init(_ expression: String) throws(ParseError) {
        let texts = try Self.fieldTexts(of: expression)
        func parse(_ index: Int, _ grammar: FieldGrammar) throws(ParseError) -> CronFieldSet {
            do {
                return try Self.parseField(texts[index], grammar: grammar)
            } catch {
                throw ParseError(expression: expression, field: grammar.field, reason: error)
            }
        }
        source = expression
        minuteSet = try parse(0, .minute)
        hourSet = try parse(1, .hour)
        dayOfMonthSet = try parse(2, .dayOfMonth)
        monthSet = try parse(3, .month)
        dayOfWeekSet = try parse(4, .dayOfWeek)
        dayOfMonthIsWildcard = texts[2].hasPrefix("*")
        dayOfWeekIsWildcard = texts[4].hasPrefix("*")
        canEverFire = Self.canEverFire(
            months: monthSet,
            daysOfMonth: dayOfMonthSet,
            eitherDayMatches: !dayOfMonthIsWildcard && !dayOfWeekIsWildcard
        )
    }

    /// Minutes (0–59) the expression fires at, ascending.
    public var minutes: [Int] { minuteSet.values }
    /// Hours (0–23) the expression fires at, ascending.
    public var hours: [Int] { hourSet.values }
    /// Days of the month (1–31) the day-of-month field allows, ascending.
    public var daysOfMonth: [Int] { dayOfMonthSet.values }
    /// Months (1–12) the expression fires in, ascending.
    public var months: [Int] { monthSet.values }
    /// Days of the week (0 = Sunday … 6 = Saturday) the day-of-week field allows, ascending.
    public var daysOfWeek: [Int] { dayOfWeekSet.values }
    /// Whether a day matches when *either* day field matches (both restricted, Vixie rule) rather than both.
    public var matchesEitherDayField: Bool { !dayOfMonthIsWildcard && !dayOfWeekIsWildcard }

    /// The expression as written.
    public var description: String { source }

    /// The first fire date strictly after `date`.
    ///
    /// - Parameters:
    ///   - date: The exclusive lower bound.
    ///   - timeZone: The zone whose wall clock the fields refer to.
    /// - Returns: The fire date, or `nil` if the expression can never fire (e.g. `0 0 30 2 *`).
    public func nextFireDate(after date: Date, in timeZone: TimeZone) -> Date? {
        guard canEverFire else { return nil }
        var wall = LocalDateTime(date, in: timeZone).nextMinute
        let lastYear = wall.year + Self.searchHorizonYears
        while let match = firstMatch(atOrAfter: wall, throughYear: lastYear) {
            if let instant = match.firstInstant(in: timeZone), instant > date {
                return instant
            }
            wall = match.nextMinute
        }
        return nil
    }

    /// The latest fire date at or before `date`.
    ///
    /// - Parameters:
    ///   - date: The inclusive upper bound.
    ///   - timeZone: The zone whose wall clock the fields refer to.
    /// - Returns: The fire date, or `nil` if the expression never fired in the preceding 400 years.
    public func previousFireDate(atOrBefore date: Date, in timeZone: TimeZone) -> Date? {
        guard canEverFire else { return nil }
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        var wall = LocalDateTime(localSeconds: seconds + LocalDateTime.maximumOffset(near: date, in: timeZone))
        let firstYear = wall.year - Self.searchHorizonYears
        while let match = lastMatch(atOrBefore: wall, fromYear: firstYear) {
            if let instant = match.firstInstant(in: timeZone), instant <= date {
                return instant
            }
            wall = match.previousMinute
        }
        return nil
    }

    /// The earliest fire dates in `(from, through]`, ascending.
    ///
    /// - Parameters:
    ///   - from: The exclusive lower bound.
    ///   - through: The inclusive upper bound.
    ///   - timeZone: The zone whose wall clock the fields refer to.
    ///   - limit: The maximum number of dates returned.
    /// - Returns: At most `limit` dates, earliest first.
    public func fireDates(from: Date, through: Date, in timeZone: TimeZone, limit: Int) -> [Date] {
        var dates: [Date] = []
        var cursor = from
        while dates.count < limit, let next = nextFireDate(after: cursor, in: timeZone), next <= through {
            dates.append(next)
            cursor = next
        }
        return dates
    }

    /// The latest fire dates in `(from, through]`, ascending; walks backwards, so it is cheap after long gaps.
    ///
    /// - Parameters:
    ///   - from: The exclusive lower bound.
    ///   - through: The inclusive upper bound.
    ///   - timeZone: The zone whose wall clock the fields refer to.
    ///   - limit: The maximum number of dates returned.
    /// - Returns: At most `limit` dates, the most recent ones, earliest first.
    public func latestFireDates(from: Date, through: Date, in timeZone: TimeZone, limit: Int) -> [Date] {
        var dates: [Date] = []
        var cursor = through
        while dates.count < limit, let previous = previousFireDate(atOrBefore: cursor, in: timeZone), previous > from {
            dates.append(previous)
            cursor = previous.addingTimeInterval(-1)
        }
        return dates.reversed()
    }

    /// Compares the parsed schedules, ignoring spelling (`@daily` equals `0 0 * * *`).
    public static func == (lhs: CronExpression, rhs: CronExpression) -> Bool {
        lhs.minuteSet == rhs.minuteSet && lhs.hourSet == rhs.hourSet && lhs.dayOfMonthSet == rhs.dayOfMonthSet
            && lhs.monthSet == rhs.monthSet && lhs.dayOfWeekSet == rhs.dayOfWeekSet
            && lhs.dayOfMonthIsWildcard == rhs.dayOfMonthIsWildcard && lhs.dayOfWeekIsWildcard == rhs.dayOfWeekIsWildcard
    }

    /// Hashes the parsed schedule, consistently with ``==(_:_:)``.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(minuteSet)
        hasher.combine(hourSet)
        hasher.combine(dayOfMonthSet)
        hasher.combine(monthSet)
        hasher.combine(dayOfWeekSet)
        hasher.combine(dayOfMonthIsWildcard)
        hasher.combine(dayOfWeekIsWildcard)
    }

    /// Decodes an expression from its string form.
    ///
    /// - Parameter decoder: The decoder holding a single string.
    /// - Throws: A decoding error, or ``ParseError`` if the string is not a valid expression.
    public init(from decoder: any Decoder) throws {
        try self.init(decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the expression as its source string.
    ///
    /// - Parameter encoder: The encoder to write to.
    /// - Throws: An encoding error.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(source)
    }

    /// The Gregorian calendar repeats every 400 years, so a match that exists is found within that span.
    private static let searchHorizonYears = 400

    private static func canEverFire(months: CronFieldSet, daysOfMonth: CronFieldSet, eitherDayMatches: Bool) -> Bool {
        if eitherDayMatches {
            return true
        }
        return months.values.contains { month in
            daysOfMonth.values.contains { $0 <= LocalDateTime.daysInMonth(year: 2000, month: month) }
        }
    }

    private func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let dayOfMonthMatches = dayOfMonthSet.contains(day)
        let dayOfWeekMatches = dayOfWeekSet.contains(LocalDateTime.weekday(year: year, month: month, day: day))
        return matchesEitherDayField ? dayOfMonthMatches || dayOfWeekMatches : dayOfMonthMatches && dayOfWeekMatches
    }

    /// The first wall-clock minute `>= start` matching every field, skipping whole months, days and hours.
    private func firstMatch(atOrAfter start: LocalDateTime, throughYear lastYear: Int) -> LocalDateTime? {
        var wall = start
        while wall.year <= lastYear {
            guard let month = monthSet.first(atOrAfter: wall.month) else {
                wall = LocalDateTime(year: wall.year + 1, month: 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if month != wall.month {
                wall = LocalDateTime(year: wall.year, month: month, day: 1, hour: 0, minute: 0)
            }
            let monthLength = LocalDateTime.daysInMonth(year: wall.year, month: wall.month)
            guard let day = (wall.day...max(wall.day, monthLength)).first(where: {
                $0 <= monthLength && dayMatches(year: wall.year, month: wall.month, day: $0)
            }) else {
                wall = wall.startOfNextMonth
                continue
            }
            if day != wall.day {
                wall = LocalDateTime(year: wall.year, month: wall.month, day: day, hour: 0, minute: 0)
            }
            guard let hour = hourSet.first(atOrAfter: wall.hour) else {
                wall = wall.startOfNextDay
                continue
            }
            if hour != wall.hour {
                wall.hour = hour
                wall.minute = 0
            }
            guard let minute = minuteSet.first(atOrAfter: wall.minute) else {
                wall = wall.startOfNextHour
                continue
            }
            wall.minute = minute
            return wall
        }
        return nil
    }

    /// The last wall-clock minute `<= start` matching every field, skipping whole months, days and hours.
    private func lastMatch(atOrBefore start: LocalDateTime, fromYear firstYear: Int) -> LocalDateTime? {
        var wall = start
        while wall.year >= firstYear {
            guard let month = monthSet.last(atOrBefore: wall.month) else {
                wall = LocalDateTime(year: wall.year - 1, month: 12, day: 31, hour: 23, minute: 59)
                continue
            }
            if month != wall.month {
                let monthLength = LocalDateTime.daysInMonth(year: wall.year, month: month)
                wall = LocalDateTime(year: wall.year, month: month, day: monthLength, hour: 23, minute: 59)
            }
            guard let day = stride(from: wall.day, through: 1, by: -1).first(where: {
                dayMatches(year: wall.year, month: wall.month, day: $0)
            }) else {
                wall = wall.endOfPreviousMonth
                continue
            }
            if day != wall.day {
                wall = LocalDateTime(year: wall.year, month: wall.month, day: day, hour: 23, minute: 59)
            }
            guard let hour = hourSet.last(atOrBefore: wall.hour) else {
                wall = wall.endOfPreviousDay
                continue
            }
            if hour != wall.hour {
                wall.hour = hour
                wall.minute = 59
            }
            guard let minute = minuteSet.last(atOrBefore: wall.minute) else {
                wall = wall.endOfPreviousHour
                continue
            }
            wall.minute = minute
            return wall
        }
        return nil
    }
}

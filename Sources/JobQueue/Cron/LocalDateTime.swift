import Foundation

/// A wall-clock minute (proleptic Gregorian calendar) with no time zone attached.
///
/// Cron matching happens on wall-clock fields with integer arithmetic; only a match is converted to an
/// instant, through ``firstInstant(in:)``, which skips nonexistent local times and picks the first of two
/// ambiguous ones. This makes DST handling explicit instead of relying on `Calendar.date(from:)`, whose
/// treatment of skipped and repeated local times differs between Foundation implementations.
struct LocalDateTime: Hashable, Comparable, Sendable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    /// The wall-clock minute containing `date` in `timeZone` (seconds are truncated).
    init(_ date: Date, in timeZone: TimeZone) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
        self.init(localSeconds: seconds + offset)
    }

    /// The wall-clock minute containing `localSeconds`, counted from 1970-01-01T00:00 local.
    init(localSeconds: Int) {
        let days = Self.floorDivide(localSeconds, 86_400)
        let secondOfDay = localSeconds - days * 86_400
        let civil = Self.civil(fromDays: days)
        self.init(year: civil.year, month: civil.month, day: civil.day, hour: secondOfDay / 3_600, minute: secondOfDay % 3_600 / 60)
    }

    /// Seconds from 1970-01-01T00:00 local to this minute, as if the wall clock were UTC.
    var localSeconds: Int {
        Self.days(fromYear: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60
    }

    /// The day of the week, 0 = Sunday … 6 = Saturday.
    var weekday: Int {
        Self.weekday(year: year, month: month, day: day)
    }

    /// The next wall-clock minute.
    var nextMinute: LocalDateTime {
        LocalDateTime(localSeconds: localSeconds + 60)
    }

    /// The previous wall-clock minute.
    var previousMinute: LocalDateTime {
        LocalDateTime(localSeconds: localSeconds - 60)
    }

    /// The earliest instant whose wall clock in `timeZone` reads this minute, or `nil` when the minute does not exist
    /// there (skipped by a DST spring-forward).
    func firstInstant(in timeZone: TimeZone) -> Date? {
        let local = localSeconds
        var offsets: Set<Int> = []
        for probe in [local - 86_400, local, local + 86_400] {
            offsets.insert(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(probe))))
        }
        let instants = offsets.compactMap { offset -> Int? in
            let instant = local - offset
            let actual = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
            return actual == offset ? instant : nil
        }
        return instants.min().map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// The largest UTC offset in effect within a day of `date`; bounds how far a wall clock can run ahead of UTC.
    static func maximumOffset(near date: Date, in timeZone: TimeZone) -> Int {
        [-86_400.0, 0, 86_400].map { timeZone.secondsFromGMT(for: date.addingTimeInterval($0)) }.max() ?? 0
    }

    static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        (lhs.year, lhs.month, lhs.day, lhs.hour, lhs.minute) < (rhs.year, rhs.month, rhs.day, rhs.hour, rhs.minute)
    }

    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func weekday(year: Int, month: Int, day: Int) -> Int {
        let days = Self.days(fromYear: year, month: month, day: day)
        return ((days + 4) % 7 + 7) % 7
    }

    /// Days since 1970-01-01 for a civil date (Howard Hinnant's `days_from_civil`).
    static func days(fromYear year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivide(shiftedYear, 400)
        let yearOfEra = shiftedYear - era * 400
        let shiftedMonth = (month + 9) % 12
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date for days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

extension LocalDateTime {
    /// 00:00 on the first day of the following month.
    var startOfNextMonth: LocalDateTime {
        month == 12
            ? LocalDateTime(year: year + 1, month: 1, day: 1, hour: 0, minute: 0)
            : LocalDateTime(year: year, month: month + 1, day: 1, hour: 0, minute: 0)
    }

    /// 00:00 on the following day.
    var startOfNextDay: LocalDateTime {
        LocalDateTime(localSeconds: LocalDateTime(year: year, month: month, day: day, hour: 0, minute: 0).localSeconds + 86_400)
    }

    /// Minute 0 of the following hour.
    var startOfNextHour: LocalDateTime {
        LocalDateTime(localSeconds: LocalDateTime(year: year, month: month, day: day, hour: hour, minute: 0).localSeconds + 3_600)
    }

    /// 23:59 on the last day of the preceding month.
    var endOfPreviousMonth: LocalDateTime {
        LocalDateTime(localSeconds: LocalDateTime(year: year, month: month, day: 1, hour: 0, minute: 0).localSeconds - 60)
    }

    /// 23:59 on the preceding day.
    var endOfPreviousDay: LocalDateTime {
        LocalDateTime(localSeconds: LocalDateTime(year: year, month: month, day: day, hour: 0, minute: 0).localSeconds - 60)
    }

    /// Minute 59 of the preceding hour.
    var endOfPreviousHour: LocalDateTime {
        LocalDateTime(localSeconds: LocalDateTime(year: year, month: month, day: day, hour: hour, minute: 0).localSeconds - 60)
    }
}

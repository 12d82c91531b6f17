public import Foundation

/// The 公示 period: the given number of working days (Monday to Friday, not a public holiday) that follow
/// the day of publication, in Asia/Shanghai. Objections close at the start of the day after the last one.
///
/// The database computes the same (`publicity_period` in definitions/12_awards.sql) when a notice is
/// published; this is its pure form, for previews and tests.
public struct PublicityPeriod: Sendable, Hashable {
    /// The first working day, as `2026-12-04`.
    public var firstDay: String
    /// The last working day.
    public var lastDay: String
    /// The start of the day after the last one, Asia/Shanghai.
    public var objectionsCloseAt: Date

    /// The period of a publication at `publishedAt`.
    /// - Parameters:
    ///   - workingDays: how many working days (at least 1).
    ///   - holidays: Monday-to-Friday days off, as `2026-10-01`.
    public init(publishedAt: Date, workingDays: Int, holidays: Set<String> = []) {
        let calendar = Shanghai.calendar
        var day = calendar.startOfDay(for: publishedAt)
        var counted = 0
        var first = day
        while counted < max(workingDays, 1) {
            day = calendar.date(byAdding: .day, value: 1, to: day)!
            let weekday = calendar.component(.weekday, from: day)
            if weekday != 1, weekday != 7, !holidays.contains(Self.text(day)) {
                counted += 1
                if counted == 1 { first = day }
            }
        }
        firstDay = Self.text(first)
        lastDay = Self.text(day)
        objectionsCloseAt = calendar.date(byAdding: .day, value: 1, to: day)!
    }

    /// `2026-12-04` for a day in Asia/Shanghai.
    static func text(_ day: Date) -> String {
        let c = Shanghai.calendar.dateComponents([.year, .month, .day], from: day)
        let month = c.month ?? 0
        let dayOfMonth = c.day ?? 0
        return "\(c.year ?? 0)-\(month < 10 ? "0" : "")\(month)-\(dayOfMonth < 10 ? "0" : "")\(dayOfMonth)"
    }
}

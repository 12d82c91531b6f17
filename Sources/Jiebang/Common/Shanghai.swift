public import Foundation

/// Dates as people in the programmes read them: Asia/Shanghai (UTC+8, no daylight saving).
public enum Shanghai {
    /// The zone.
    public static let timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3_600)!

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }()

    /// `2026年12月5日 00:30`.
    public static func text(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let hour = c.hour ?? 0
        let minute = c.minute ?? 0
        return "\(c.year ?? 0)年\(c.month ?? 0)月\(c.day ?? 0)日 \(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute)"
    }

    /// How many calendar days in Shanghai lie between the day of `from` and the day of `to`: 1 when `to`
    /// is tomorrow there, however few hours away.
    public static func days(from: Date, to: Date) -> Int {
        calendar.dateComponents([.day], from: calendar.startOfDay(for: from), to: calendar.startOfDay(for: to)).day ?? 0
    }

    /// 今天, 明天, 后天, or N天后.
    public static func relativeDay(from: Date, to: Date) -> String {
        switch days(from: from, to: to) {
        case ...0: "今天"
        case 1: "明天"
        case 2: "后天"
        case let n: "\(n)天后"
        }
    }
}

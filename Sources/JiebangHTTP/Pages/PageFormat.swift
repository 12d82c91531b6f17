import Foundation
import Jiebang

/// How pages show values to people: times in Asia/Shanghai, money in 万元 with the exact figure,
/// the domain's codes in Chinese, and search words marked in text.
enum PageFormat {
    /// A run of text, marked when it is a search hit. Templates print `text` escaped, inside `<mark>` when `hit`.
    struct Segment: Sendable, Hashable {
        var text: String
        var hit: Bool
    }

    /// Money shown two ways: in 万元 with two decimals, and exactly in 元.
    struct Money: Sendable, Hashable {
        /// For example `500.00`.
        var wan: String
        /// For example `5,000,000.00`.
        var yuan: String
    }

    /// The Gregorian calendar in Asia/Shanghai (UTC+8 all year).
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600)!
        return calendar
    }()

    /// `2027-01-15 17:00`, Beijing time (UTC+8 all year since 1992), computed from the
    /// seconds since 1970 (the civil-from-days algorithm) rather than through `Calendar` and `String(format:)`,
    /// which were a twentieth of the board page's time.
    static func dateTime(_ date: Date) -> String {
        // China kept daylight saving time until 1991 (and local mean time before 1901): the time zone
        // database answers for those years.
        guard date.timeIntervalSince1970 >= 694_195_200 else {
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            return String(format: "%04d-%02d-%02d %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
        }
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + 8 * 3600
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (day, second) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        let (year, month, dayOfMonth) = civil(fromDays: day)
        return "\(four(year))-\(two(month))-\(two(dayOfMonth)) \(two(second / 3600)):\(two(second % 3600 / 60))"
    }

    /// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func four(_ value: Int) -> String {
        let text = "\(value)"
        return text.count >= 4 ? text : String(repeating: "0", count: 4 - text.count) + text
    }

    /// `2027-01-15`, the day in Beijing.
    static func day(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// Fen as 万元 (rounded half up to 0.01 万元, that is 100 元) and as exact 元 with thousands separators.
    static func money(fen: Int64) -> Money {
        let negative = fen < 0
        let magnitude = fen.magnitude
        let hundredthsOfWan = (magnitude + 5_000) / 10_000
        let wan = "\(negative ? "-" : "")\(grouped(hundredthsOfWan / 100)).\(twoDigits(hundredthsOfWan % 100))"
        let yuan = "\(negative ? "-" : "")\(grouped(magnitude / 100)).\(twoDigits(magnitude % 100))"
        return Money(wan: wan, yuan: yuan)
    }

    /// Fen as a form's 万元 figure, without trailing zeros: `30000000000` as `300000`, `125000` as `0.125`.
    static func wanInput(fen: Int64) -> String {
        let magnitude = fen.magnitude
        var fraction = String(magnitude % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(fen < 0 ? "-" : "")\(magnitude / 1_000_000)\(fraction.isEmpty ? "" : "." + fraction)"
    }

    /// A form's 万元 figure as fen: digits with at most six decimals (a fen is 0.000001 万元), thousands
    /// separators and spaces ignored; nil for anything else, a negative figure or one past `Int64`.
    static func fen(wan text: String) -> Int64? {
        let cleaned = text.filter { $0 != "," && $0 != "，" && !$0.isWhitespace }
        let parts = cleaned.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 13, whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber)
        else { return nil }
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        guard fraction.count <= 6, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if parts.count > 1, fraction.isEmpty { return nil }
        fraction += String(repeating: "0", count: 6 - fraction.count)
        guard let units = Int64(whole), let part = Int64(fraction) else { return nil }
        let (scaled, overflow) = units.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return nil }
        let (sum, overflowAgain) = scaled.addingReportingOverflow(part)
        return overflowAgain ? nil : sum
    }

    private static func twoDigits(_ value: UInt64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// `1234567` as `1,234,567`.
    static func grouped(_ value: UInt64) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }

    /// 任务类别 in Chinese.
    static func category(_ code: String) -> String {
        switch code {
        case "core_basic": "核心基础"
        case "key_product": "重点产品"
        case "public_support": "公共支撑"
        case "demonstration": "示范应用"
        default: code
        }
    }

    /// The board's categories, in the order a form lists them.
    static let categories = ["core_basic", "key_product", "public_support", "demonstration"]

    /// A challenge's status as the public reads it.
    static func status(_ status: ChallengeStatus) -> String {
        switch status {
        case .draft: "草稿"
        case .published: "征集中"
        case .closed: "已截止"
        }
    }

    /// The fields an amendment can change, named as the challenge's page names them.
    static func amendedField(_ key: String) -> String {
        switch key {
        case "title": "榜单名称"
        case "task": "攻关任务"
        case "content": "攻关内容"
        case "indicators": "考核指标"
        case "category": "任务类别"
        case "domain": "领域"
        case "industryChain": "产业链"
        case "applicationDeadline": "申报截止时间"
        case "completionDeadline": "时限要求"
        case "fundingCeilingFen": "支持资金上限"
        case "winners": "揭榜单位数"
        default: key
        }
    }

    /// An amended field's new value as a person reads it (times in Beijing, money in 万元).
    static func amendedValue(_ key: String, _ value: String) -> String {
        switch key {
        case "applicationDeadline":
            if let date = try? Date.ISO8601FormatStyle().parse(value) { return dateTime(date) }
            return value
        case "fundingCeilingFen":
            if let fen = Int64(value) { return "\(money(fen: fen).wan) 万元" }
            return value
        case "category": return category(value)
        default: return value
        }
    }

    /// `text` cut into runs, each occurrence of `keyword` (ignoring case) marked as a hit.
    static func highlight(_ text: String, _ keyword: String?) -> [Segment] {
        guard let keyword = keyword.map({ String($0.trimmingWhiteSpace()) }), !keyword.isEmpty else {
            return [Segment(text: text, hit: false)]
        }
        var segments: [Segment] = []
        var rest = text[...]
        while let range = rest.range(of: keyword, options: [.caseInsensitive]) {
            if range.lowerBound > rest.startIndex { segments.append(Segment(text: String(rest[..<range.lowerBound]), hit: false)) }
            segments.append(Segment(text: String(rest[range]), hit: true))
            rest = rest[range.upperBound...]
        }
        if !rest.isEmpty || segments.isEmpty { segments.append(Segment(text: String(rest), hit: false)) }
        return segments
    }
}

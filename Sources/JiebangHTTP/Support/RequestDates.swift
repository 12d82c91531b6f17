import Foundation

/// The dates a request may carry: years 0001 to 9999 (UTC), as ISO 8601 writes them with four
/// digits, well inside PostgreSQL's `timestamptz` range (4713 BC to 294276 AD), so a date read
/// from a request always reaches the database as a value it stores.
enum RequestDates {
    /// 0001-01-01T00:00:00Z.
    static let earliest = Date(timeIntervalSince1970: -62_135_596_800)
    /// 9999-12-31T23:59:59Z.
    static let latest = Date(timeIntervalSince1970: 253_402_300_799)

    /// The reason a date outside the range is refused.
    static let rule = "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"

    /// Whether `date` may be used.
    static func contains(_ date: Date) -> Bool {
        (earliest...latest).contains(date)
    }
}

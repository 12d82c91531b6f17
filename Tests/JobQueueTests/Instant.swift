import Foundation

/// Parses an ISO 8601 timestamp with an explicit offset, such as `2024-12-10T09:00:00+08:00`.
func instant(_ text: String) throws -> Date {
    try Date.ISO8601FormatStyle().parse(text)
}

let shanghai = TimeZone(identifier: "Asia/Shanghai")!
let newYork = TimeZone(identifier: "America/New_York")!

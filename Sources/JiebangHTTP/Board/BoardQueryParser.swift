import Foundation
import Hummingbird
import Jiebang

/// Reads the board's query parameters, naming every bad one in a problem document.
enum BoardQueryParser {
    static let categories: Set<String> = ["core_basic", "key_product", "public_support", "demonstration"]

    static func parse(_ parameters: Parameters) throws -> BoardStore.Query {
        var query = BoardStore.Query()
        var errors: [Problem.FieldError] = []
        /// A free-text filter: absent or empty means no filter.
        func text(_ name: String, maximum: Int = 100) -> String? {
            guard let value = parameters.get(name).map({ String($0) }), !value.isEmpty else { return nil }
            if value.count > maximum { errors.append(.init(field: name, message: "must be at most \(maximum) characters")) }
            return value
        }
        /// A typed parameter: absent means none, but present and empty is an error the caller reports.
        func typed(_ name: String, maximum: Int = 100) -> String? {
            guard let value = parameters.get(name).map({ String($0) }) else { return nil }
            if value.count > maximum { errors.append(.init(field: name, message: "must be at most \(maximum) characters")) }
            return value
        }
        /// A date filter: a date-time, or a date meaning the whole day in Asia/Shanghai (`QueryDate`).
        func date(_ name: String) -> QueryDate? {
            guard let value = typed(name, maximum: 40) else { return nil }
            do throws(QueryDate.Refusal) {
                return try QueryDate.parse(value)
            } catch {
                switch error {
                case .unreadable: errors.append(.init(field: name, message: "\(value) is not \(QueryDate.expected)"))
                case .outOfRange: errors.append(.init(field: name, message: RequestDates.rule))
                }
                return nil
            }
        }
        if let value = typed("programme") {
            if let id = Int(value), id > 0 {
                query.programmeID = id
            } else {
                errors.append(.init(field: "programme", message: "\(value) is not a programme id"))
            }
        }
        query.domain = text("domain")
        query.industryChain = text("industryChain")
        if let value = typed("category") {
            if categories.contains(value) {
                query.category = value
            } else {
                errors.append(.init(field: "category", message: "must be one of \(categories.sorted().joined(separator: ", "))"))
            }
        }
        if let value = typed("status") {
            if let status = ChallengeStatus(rawValue: value), status != .draft {
                query.status = status
            } else {
                errors.append(.init(field: "status", message: "must be published or closed"))
            }
        }
        query.deadlineFrom = date("deadlineFrom")?.lowerBound
        switch date("deadlineTo") {
        case .instant(let date): query.deadlineTo = date
        case .day(_, let end): query.deadlineBefore = end
        case nil: break
        }
        query.keyword = text("q", maximum: 50)
        if let value = typed("limit") {
            if let limit = Int(value), (1...100).contains(limit) {
                query.limit = limit
            } else {
                errors.append(.init(field: "limit", message: "must be a whole number from 1 to 100"))
            }
        }
        if let value = typed("after", maximum: 80) {
            if let cursor = decode(value) {
                query.after = cursor
            } else {
                errors.append(.init(field: "after", message: "is not a cursor from a previous page's next"))
            }
        }
        guard errors.isEmpty else {
            throw Problem(
                status: .badRequest, title: "Invalid query parameters", detail: "Some query parameters are not valid.", errors: errors)
        }
        return query
    }

    /// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 UTC.
    static let postgresEpoch: TimeInterval = 946_684_800

    /// The cursor of `position`: base64url (no padding) of `v1:<deadline in microseconds since
    /// 2000-01-01 UTC>:<id>`. Clients treat it as opaque.
    /// - Returns: nil for a deadline outside `RequestDates` (the database's rows have none).
    static func encode(_ cursor: BoardStore.Cursor) -> String? {
        guard RequestDates.contains(cursor.deadline),
            let micros = Int64(exactly: ((cursor.deadline.timeIntervalSince1970 - postgresEpoch) * 1_000_000).rounded())
        else { return nil }
        return Base64URL.encode("v1:\(micros):\(cursor.id)".utf8)
    }

    /// Reads a cursor `encode` wrote; anything else, including a deadline outside `RequestDates`, is nil.
    static func decode(_ text: String) -> BoardStore.Cursor? {
        guard !text.isEmpty, !text.contains("="), let bytes = Base64URL.decode(text),
            let plain = String(validating: bytes, as: UTF8.self)
        else { return nil }
        let parts = plain.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let micros = Int64(parts[1]), let id = Int(parts[2]), id > 0,
            String(micros) == parts[1], String(id) == parts[2]
        else { return nil }
        let deadline = Date(timeIntervalSince1970: postgresEpoch + Double(micros) / 1_000_000)
        guard RequestDates.contains(deadline) else { return nil }
        return BoardStore.Cursor(deadline: deadline, id: id)
    }
}

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
        func date(_ name: String) -> Date? {
            guard let value = typed(name, maximum: 40) else { return nil }
            if let date = try? Date.ISO8601FormatStyle().parse(value) { return date }
            if let day = try? Date.ISO8601FormatStyle().year().month().day().parse(value) { return day }
            errors.append(.init(field: name, message: "\(value) is not a date (2025-05-31 or 2025-05-31T09:00:00+08:00)"))
            return nil
        }
        if let value = typed("programme") {
            if let id = Int(value), id > 0 { query.programmeID = id } else {
                errors.append(.init(field: "programme", message: "\(value) is not a programme id"))
            }
        }
        query.domain = text("domain")
        query.industryChain = text("industryChain")
        if let value = typed("category") {
            if categories.contains(value) { query.category = value } else {
                errors.append(.init(field: "category", message: "must be one of \(categories.sorted().joined(separator: ", "))"))
            }
        }
        if let value = typed("status") {
            if let status = ChallengeStatus(rawValue: value), status != .draft { query.status = status } else {
                errors.append(.init(field: "status", message: "must be published or closed"))
            }
        }
        query.deadlineFrom = date("deadlineFrom")
        query.deadlineTo = date("deadlineTo")
        query.keyword = text("q", maximum: 50)
        if let value = typed("limit") {
            if let limit = Int(value), (1...100).contains(limit) { query.limit = limit } else {
                errors.append(.init(field: "limit", message: "must be a whole number from 1 to 100"))
            }
        }
        if let value = typed("after", maximum: 60) {
            if let cursor = decode(value) { query.after = cursor } else {
                errors.append(.init(field: "after", message: "is not a cursor from a previous page's next"))
            }
        }
        guard errors.isEmpty else {
            throw Problem(status: .badRequest, title: "Invalid query parameters", detail: "Some query parameters are not valid.", errors: errors)
        }
        return query
    }

    /// A cursor as `<deadline in microseconds>.<id>`.
    static func encode(_ cursor: BoardStore.Cursor) -> String {
        "\(Int64((cursor.deadline.timeIntervalSince1970 * 1_000_000).rounded())).\(cursor.id)"
    }

    static func decode(_ text: String) -> BoardStore.Cursor? {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = Int(parts[1]), id > 0 else { return nil }
        return BoardStore.Cursor(deadline: Date(timeIntervalSince1970: Double(micros) / 1_000_000), id: id)
    }
}

public import Foundation
public import Postgres

/// The public board: published challenges, filtered, searched and paged without signing in.
public enum BoardStore {
    /// What the board is asked for. Every filter is optional.
    public struct Query: Sendable, Hashable {
        public var programmeID: Int?
        public var domain: String?
        public var industryChain: String?
        public var category: String?
        public var status: ChallengeStatus?
        /// Deadlines at or after this instant.
        public var deadlineFrom: Date?
        /// Deadlines at or before this instant.
        public var deadlineTo: Date?
        /// Deadlines strictly before this instant (the end of a whole day).
        public var deadlineBefore: Date?
        /// Words to find in the title, task or content; Chinese works (稀土, 氢能储运).
        public var keyword: String?
        /// Continue after this (deadline, id), from the previous page's `next`.
        public var after: Cursor?
        /// Page size. Default 20.
        public var limit: Int = 20

        public init() {}
    }

    /// A position in the board's order (application deadline, then id).
    public struct Cursor: Sendable, Hashable {
        public var deadline: Date
        public var id: Int
        public init(deadline: Date, id: Int) {
            self.deadline = deadline
            self.id = id
        }
    }

    /// One challenge as the board lists it.
    public struct Entry: Sendable, Hashable {
        public var id: Int
        public var programmeID: Int
        public var title: String
        public var category: String
        public var domain: String
        public var industryChain: String
        public var status: ChallengeStatus
        public var applicationDeadline: Date
        public var fundingCeilingFen: Int64
        public var version: Int
    }

    /// One page of the board, soonest deadline first.
    /// - Returns: the entries and the cursor of the next page (nil on the last page).
    public static func search(_ query: Query, on db: PostgresConnection) async throws -> (entries: [Entry], next: Cursor?) {
        let limit = min(max(query.limit, 1), 100)
        let rows = try await db.query(statement(query, limit: limit))
        var entries = try rows.map { row in
            let (id, programme, title, category, domain, chain, status, deadline, ceiling, version) =
                try row.decode((Int, Int, String, String, String, String, String, Date, Int64, Int).self)
            return Entry(
                id: id, programmeID: programme, title: title, category: category, domain: domain, industryChain: chain,
                status: ChallengeStatus(rawValue: status) ?? .published, applicationDeadline: deadline,
                fundingCeilingFen: ceiling, version: version)
        }
        var next: Cursor?
        if entries.count > limit {
            entries.removeLast()
            next = entries.last.map { Cursor(deadline: $0.applicationDeadline, id: $0.id) }
        }
        return (entries, next)
    }

    /// The statement `search` runs for `query`, fetching `limit + 1` rows.
    static func statement(_ query: Query, limit: Int) -> PostgresQuery {
        // Only the conditions asked for are written, so each combination is its own statement, which
        // PostgreSQL plans once per connection (a generic plan) with the right index: an optional
        // `($1 IS NULL OR …)` condition would be planned again at every execution, or keep the index
        // from being used. The page's ids are chosen first, carrying only the order's columns through
        // the sort, then its 20 rows are read whole.
        return """
            SELECT c.id, c.programme_id, c.title, c.category::text, c.domain, c.industry_chain, c.status::text,
                   c.application_deadline, c.funding_ceiling_fen, c.version
            FROM (SELECT id, application_deadline FROM challenges
                  WHERE \(fragment: conditions(query))
                  ORDER BY application_deadline, id
                  LIMIT \(limit + 1)) AS page
            JOIN challenges AS c ON c.id = page.id
            ORDER BY page.application_deadline, page.id
            """
    }

    /// How a keyword is matched.
    enum KeywordMatch: Equatable {
        /// No keyword: every challenge.
        case none
        /// One or two letters or digits form a single gram: the gram index answers exactly, with no recheck.
        case gram(String)
        /// Longer text: every gram must be there (the index), then the text must contain it (the recheck).
        case substring(String)
    }

    /// Chooses how to match `keyword` (trimmed, lower-cased).
    static func match(_ keyword: String?) -> KeywordMatch {
        guard let trimmed = keyword?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased(), !trimmed.isEmpty else {
            return .none
        }
        let simple = trimmed.unicodeScalars.allSatisfy { scalar in
            (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)))
                || (0x4E00...0x9FFF).contains(scalar.value)
        }
        return simple && trimmed.count <= 2 ? .gram(trimmed) : .substring(trimmed)
    }

    /// The board's WHERE clause: published (not draft) challenges, and each condition the query gives.
    static func conditions(_ query: Query) -> PostgresQuery {
        var clause: PostgresQuery = "status <> 'draft'"
        func and(_ condition: PostgresQuery) {
            clause = "\(fragment: clause) AND \(fragment: condition)"
        }
        switch match(query.keyword) {
        case .none: break
        case .gram(let gram): and("grams && ARRAY[\(gram)]::text[]")
        case .substring(let text):
            and("grams @> text_grams(\(text)) AND strpos(lower(title || ' ' || task || ' ' || content), \(text)) > 0")
        }
        if let programmeID = query.programmeID { and("programme_id = \(programmeID)") }
        if let domain = query.domain { and("domain = \(domain)") }
        if let industryChain = query.industryChain { and("industry_chain = \(industryChain)") }
        if let category = query.category { and("category::text = \(category)") }
        if let status = query.status { and("status::text = \(status.rawValue)") }
        if let deadlineFrom = query.deadlineFrom { and("application_deadline >= \(deadlineFrom)") }
        if let deadlineTo = query.deadlineTo { and("application_deadline <= \(deadlineTo)") }
        if let deadlineBefore = query.deadlineBefore { and("application_deadline < \(deadlineBefore)") }
        if let after = query.after { and("(application_deadline, id) > (\(after.deadline), \(after.id)::bigint)") }
        return clause
    }
}

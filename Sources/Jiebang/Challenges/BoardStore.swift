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
        public var deadlineFrom: Date?
        public var deadlineTo: Date?
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
        // The keyword condition is one of three fixed fragments, never an optional one: under a
        // generic prepared plan an optional condition would keep the gram index from being used.
        let rows = try await db.query(
            """
            SELECT id, programme_id, title, category::text, domain, industry_chain, status::text, application_deadline,
                   funding_ceiling_fen, version
            FROM challenges
            WHERE status <> 'draft'
              AND \(fragment: keywordCondition(query.keyword))
              AND (\(query.programmeID)::bigint IS NULL OR programme_id = \(query.programmeID))
              AND (\(query.domain)::text IS NULL OR domain = \(query.domain))
              AND (\(query.industryChain)::text IS NULL OR industry_chain = \(query.industryChain))
              AND (\(query.category)::text IS NULL OR category::text = \(query.category))
              AND (\(query.status?.rawValue)::text IS NULL OR status::text = \(query.status?.rawValue))
              AND (\(query.deadlineFrom)::timestamptz IS NULL OR application_deadline >= \(query.deadlineFrom))
              AND (\(query.deadlineTo)::timestamptz IS NULL OR application_deadline <= \(query.deadlineTo))
              AND (\(query.after?.deadline)::timestamptz IS NULL
                   OR (application_deadline, id) > (\(query.after?.deadline), \(query.after?.id)::bigint))
            ORDER BY application_deadline, id
            LIMIT \(limit + 1)
            """)
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

    static func keywordCondition(_ keyword: String?) -> PostgresQuery {
        switch match(keyword) {
        case .none: "TRUE"
        case .gram(let gram): "grams && ARRAY[\(gram)]::text[]"
        case .substring(let text):
            "grams @> text_grams(\(text)) AND strpos(lower(title || ' ' || task || ' ' || content), \(text)) > 0"
        }
    }
}

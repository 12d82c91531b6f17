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
        /// Go back: the page that ends just before this (deadline, id), from a page's `previous`.
        /// Ignored when `after` is set.
        public var before: Cursor?
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

    /// A page of the board with the cursors around it.
    public struct Page: Sendable, Hashable {
        /// The page's challenges, soonest deadline first.
        public var entries: [Entry]
        /// The cursor of the following page (`Query.after`); nil on the last page.
        public var next: Cursor?
        /// The cursor of the page before (`Query.before`); nil on the first page.
        public var previous: Cursor?

        public init(entries: [Entry], next: Cursor?, previous: Cursor?) {
            self.entries = entries
            self.next = next
            self.previous = previous
        }
    }

    /// A programme that has challenges on the board.
    public struct ProgrammeName: Sendable, Hashable {
        public var id: Int
        public var name: String
    }

    /// The values the board's filters can take: the programmes, domains and industry chains of its challenges.
    public struct Facets: Sendable, Hashable {
        public var programmes: [ProgrammeName]
        public var domains: [String]
        public var industryChains: [String]
    }

    /// One page of the board, soonest deadline first; `Query.before` pages backwards.
    public static func page(_ query: Query, on db: PostgresConnection) async throws -> Page {
        guard query.after == nil, let before = query.before else {
            let (entries, next) = try await search(query, on: db)
            return Page(entries: entries, next: next, previous: query.after != nil ? entries.first.map(cursor) : nil)
        }
        let limit = min(max(query.limit, 1), 100)
        let rows = try await db.query(
            statement(
                query, limit: limit, cursor: "(application_deadline, id) < (\(before.deadline), \(before.id)::bigint)", descending: true))
        var entries = try rows.map(entry)
        let more = entries.count > limit
        if more { entries.removeLast() }
        entries.reverse()
        return Page(entries: entries, next: entries.last.map(cursor), previous: more ? entries.first.map(cursor) : nil)
    }

    /// A page of the board with the number of challenges matching `query` (its cursors aside) and when a
    /// challenge last changed (`stamp`), in one statement: what the board's page shows, in one round trip.
    public static func countedPage(_ query: Query, on db: PostgresConnection) async throws -> (page: Page, total: Int, stamp: Date?) {
        var whole = query
        whole.after = nil
        whole.before = nil
        let limit = min(max(query.limit, 1), 100)
        let backwards = query.after == nil && query.before != nil
        let page: PostgresQuery =
            if backwards, let before = query.before {
                statement(
                    query, limit: limit, cursor: "(application_deadline, id) < (\(before.deadline), \(before.id)::bigint)",
                    descending: true)
            } else {
                statement(query, limit: limit)
            }
        let rows = try await db.query(
            """
            WITH total AS (SELECT count(*) AS n FROM challenges WHERE \(fragment: conditions(whole))),
                 changed AS (SELECT max(updated_at) AS at FROM challenges),
                 page AS (\(fragment: page))
            SELECT page.*, total.n, changed.at
            FROM total CROSS JOIN changed LEFT JOIN page ON true
            ORDER BY \(fragment: backwards ? "page.application_deadline DESC, page.id DESC" : "page.application_deadline, page.id")
            """)
        var entries: [Entry] = []
        var total = 0
        var stamp: Date?
        for row in rows {
            total = try row.decode(Int.self, at: 10)
            stamp = try row.decode(Date?.self, at: 11)
            if try row.decode(Int?.self, at: 0) != nil { entries.append(try entry(row)) }
        }
        let more = entries.count > limit
        if more { entries.removeLast() }
        if backwards {
            entries.reverse()
            return (Page(entries: entries, next: entries.last.map(cursor), previous: more ? entries.first.map(cursor) : nil), total, stamp)
        }
        let previous = query.after != nil ? entries.first.map(cursor) : nil
        return (Page(entries: entries, next: more ? entries.last.map(cursor) : nil, previous: previous), total, stamp)
    }

    /// How many challenges match `query`'s filters and keyword (its cursors aside).
    public static func count(_ query: Query, on db: PostgresConnection) async throws -> Int {
        var whole = query
        whole.after = nil
        whole.before = nil
        return try await db.query("SELECT count(*) FROM challenges WHERE \(fragment: conditions(whole))").first?.decode(Int.self) ?? 0
    }

    /// The programmes, domains and industry chains of the challenges on the board, each sorted.
    public static func facets(on db: PostgresConnection) async throws -> Facets {
        let programmes = try await db.query(
            """
            SELECT p.id, p.name FROM programmes p
            WHERE EXISTS (SELECT 1 FROM challenges c WHERE c.programme_id = p.id AND c.status <> 'draft')
            ORDER BY p.id DESC
            """
        ).map { row in
            let (id, name) = try row.decode((Int, String).self)
            return ProgrammeName(id: id, name: name)
        }
        let domains = try await db.query("SELECT DISTINCT domain FROM challenges WHERE status <> 'draft' ORDER BY 1").map {
            try $0.decode(String.self)
        }
        let chains = try await db.query("SELECT DISTINCT industry_chain FROM challenges WHERE status <> 'draft' ORDER BY 1").map {
            try $0.decode(String.self)
        }
        return Facets(programmes: programmes, domains: domains, industryChains: chains)
    }

    /// When a challenge last changed (its largest `updated_at`; nil with none): the facets stay the same
    /// until it moves. One probe of the index `challenges_updated_at`.
    public static func stamp(on db: PostgresConnection) async throws -> Date? {
        try await db.query("SELECT max(updated_at) FROM challenges").first?.decode(Date?.self) ?? nil
    }

    static func cursor(_ entry: Entry) -> Cursor { Cursor(deadline: entry.applicationDeadline, id: entry.id) }

    /// The entry in a row's first ten columns (a row may carry more after them).
    static func entry(_ row: PostgresRow) throws -> Entry {
        let (id, programme, title, category, domain) = (
            try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1), try row.decode(String.self, at: 2),
            try row.decode(String.self, at: 3), try row.decode(String.self, at: 4)
        )
        let (chain, status, deadline, ceiling, version) = (
            try row.decode(String.self, at: 5), try row.decode(String.self, at: 6), try row.decode(Date.self, at: 7),
            try row.decode(Int64.self, at: 8), try row.decode(Int.self, at: 9)
        )
        return Entry(
            id: id, programmeID: programme, title: title, category: category, domain: domain, industryChain: chain,
            status: ChallengeStatus(rawValue: status) ?? .published, applicationDeadline: deadline,
            fundingCeilingFen: ceiling, version: version)
    }

    /// One page of the board, soonest deadline first.
    /// - Returns: the entries and the cursor of the next page (nil on the last page).
    public static func search(_ query: Query, on db: PostgresConnection) async throws -> (entries: [Entry], next: Cursor?) {
        let limit = min(max(query.limit, 1), 100)
        let rows = try await db.query(statement(query, limit: limit))
        var entries = try rows.map(entry)
        var next: Cursor?
        if entries.count > limit {
            entries.removeLast()
            next = entries.last.map(cursor)
        }
        return (entries, next)
    }

    /// The statement `search` runs for `query`, fetching `limit + 1` rows.
    static func statement(_ query: Query, limit: Int, cursor: PostgresQuery? = nil, descending: Bool = false) -> PostgresQuery {
        // Only the conditions asked for are written, so each combination is its own statement, which
        // PostgreSQL plans once per connection (a generic plan) with the right index: an optional
        // `($1 IS NULL OR …)` condition would be planned again at every execution, or keep the index
        // from being used. The page's ids are chosen first, carrying only the order's columns through
        // the sort, then its 20 rows are read whole.
        var whereClause = conditions(query)
        if let cursor { whereClause = "\(fragment: whereClause) AND \(fragment: cursor)" }
        let order: PostgresQuery = descending ? "application_deadline DESC, id DESC" : "application_deadline, id"
        return """
            SELECT c.id, c.programme_id, c.title, c.category::text, c.domain, c.industry_chain, c.status::text,
                   c.application_deadline, c.funding_ceiling_fen, c.version
            FROM (SELECT id, application_deadline FROM challenges
                  WHERE \(fragment: whereClause)
                  ORDER BY \(fragment: order)
                  LIMIT \(limit + 1)) AS page
            JOIN challenges AS c ON c.id = page.id
            ORDER BY \(fragment: descending ? "page.application_deadline DESC, page.id DESC" : "page.application_deadline, page.id")
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
        guard let trimmed = keyword?.trimmingWhiteSpace().lowercased(), !trimmed.isEmpty else {
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

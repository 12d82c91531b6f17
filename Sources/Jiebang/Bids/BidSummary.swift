public import Foundation
public import Postgres

/// 汇总表: the bids of a programme (or of one city), as CSV for Excel and as XLSX.
public enum BidSummary {
    /// The table's headers.
    public static let headers = [
        "申请编号", "榜单任务", "牵头单位", "统一社会信用代码", "所在市州", "参与单位", "项目总投资（元）", "自筹资金（元）",
        "申请支持资金（元）", "状态", "提交版本", "提交时间",
    ]

    /// The rows a page holds when the table is read in pages: small enough that a page costs the
    /// server little memory, large enough that 100,000 bids take only a hundred statements.
    public static let pageSize = 1_000

    /// The region whose bids the actor may export from a programme: `region` as asked, or, for a
    /// recommender, their own city; nil for the whole programme.
    /// - Throws: `DomainError.forbidden` when the actor may not export this programme or region;
    ///   `.notFound` for an unknown programme.
    public static func scope(programmeID: Int, region: String?, for actor: Actor, on db: PostgresConnection) async throws
        -> String?
    {
        let programme = try await ProgrammeStore.programme(id: programmeID, on: db)
        switch actor.role {
        case .provincialPublisher:
            guard AccessPolicy.mayManageProgrammes(ofBureau: programme.bureauID, by: actor) else {
                throw DomainError.notFound("no programme has id \(programmeID)")
            }
            return region
        case .municipalRecommender:
            if let region, region != actor.regionCode { throw DomainError.forbidden("region \(region) is not yours") }
            return actor.regionCode
        case .systemAdmin: return region
        default: throw DomainError.forbidden("a \(actor.role.rawValue) may not export bid summaries")
        }
    }

    /// One bid's row of the table.
    public struct Row: Sendable, Hashable {
        public var bidID: Int
        public var challengeID: Int
        public var challengeTitle: String
        public var leadUnitName: String
        public var creditCode: String
        public var regionCode: String
        /// The accepted partners' names, joined with 「；」.
        public var partners: String
        public var totalInvestmentFen: Int64
        public var selfFundingFen: Int64
        public var requestedFundingFen: Int64
        /// The bid's status code, for example `submitted`.
        public var status: String
        public var version: Int
        public var submittedAt: Date?
    }

    /// The challenges with rows in the table (a programme's, or one city's in it), in their order: the sheets
    /// of the workbook.
    public static func challenges(programmeID: Int, region: String?, on db: PostgresConnection) async throws -> [(id: Int, title: String)] {
        try await db.query(
            """
            SELECT c.id, c.title FROM challenges c
            WHERE c.programme_id = \(programmeID)
              AND EXISTS (SELECT 1 FROM bids b WHERE b.challenge_id = c.id AND b.status NOT IN ('draft', 'withdrawn')
                            AND (\(region)::text IS NULL OR b.region_code = \(region)))
            ORDER BY c.id
            """
        ).map { row in
            let (id, title) = try row.decode((Int, String).self)
            return (id, title)
        }
    }

    /// Where a page of the table ends: its last row's region and bid, the table's order.
    public struct Position: Sendable, Hashable {
        /// The region code of the last row read.
        public var regionCode: String
        /// The bid id of the last row read.
        public var bidID: Int
    }

    /// One page of the table's rows: the submitted (and later) bids of a programme, or of one city in it,
    /// that come after `position` in the table's order (region, then bid id), at most `limit` of them.
    ///
    /// Call `scope(programmeID:region:for:on:)` first: this reads whatever it is asked.
    /// - Returns: the rows and the position of the last one (nil when the page is empty).
    public static func page(
        programmeID: Int, region: String?, after position: Position?, limit: Int = pageSize, on db: PostgresConnection
    ) async throws -> (rows: [Row], last: Position?) {
        var last: Position?
        let rows = try await db.query(
            """
            SELECT b.id, c.title, u.name, u.credit_code, u.region_code, b.challenge_id,
                   coalesce((SELECT string_agg(pu.name, '；' ORDER BY pu.name) FROM bid_members m JOIN units pu ON pu.id = m.unit_id
                             WHERE m.bid_id = b.id AND m.role = 'partner' AND m.status = 'accepted'), ''),
                   b.total_investment_fen, b.self_funding_fen, b.requested_funding_fen, b.status::text, b.version, b.submitted_at,
                   b.region_code
            FROM bids b JOIN challenges c ON c.id = b.challenge_id JOIN units u ON u.id = b.lead_unit_id
            WHERE b.programme_id = \(programmeID) AND b.status NOT IN ('draft', 'withdrawn')
              AND (\(region)::text IS NULL OR b.region_code = \(region))
              AND (\(position?.regionCode)::text IS NULL OR (b.region_code, b.id) > (\(position?.regionCode), \(position?.bidID)::bigint))
            ORDER BY b.region_code, b.id
            LIMIT \(max(limit, 1))
            """
        ).map { row in
            let id = try row.decode(Int.self, at: 0)
            last = Position(regionCode: try row.decode(String.self, at: 13), bidID: id)
            return Row(
                bidID: id, challengeID: try row.decode(Int.self, at: 5), challengeTitle: try row.decode(String.self, at: 1),
                leadUnitName: try row.decode(String.self, at: 2), creditCode: try row.decode(String.self, at: 3),
                regionCode: try row.decode(String.self, at: 4), partners: try row.decode(String.self, at: 6),
                totalInvestmentFen: try row.decode(Int64.self, at: 7), selfFundingFen: try row.decode(Int64.self, at: 8),
                requestedFundingFen: try row.decode(Int64.self, at: 9), status: try row.decode(String.self, at: 10),
                version: try row.decode(Int.self, at: 11), submittedAt: try row.decode(Date?.self, at: 12))
        }
        return (rows, last)
    }

    /// A row as the CSV's fields: money in exact 元, the status in Chinese, the time in ISO 8601 at +08:00.
    public static func csvFields(_ row: Row, formatter: ISO8601DateFormatter = shanghaiFormatter()) -> [String] {
        [
            "\(row.bidID)", row.challengeTitle, row.leadUnitName, row.creditCode, row.regionCode, row.partners,
            yuan(row.totalInvestmentFen), yuan(row.selfFundingFen), yuan(row.requestedFundingFen), statusName(row.status),
            "\(row.version)", row.submittedAt.map(formatter.string(from:)) ?? "",
        ]
    }

    /// The table's rows, page after page, each page read with a statement of its own on a connection taken
    /// from `database` only while it runs: nothing is held between pages, so a slow reader holds no
    /// connection and no transaction. A failure (the database gone) ends the sequence with its error.
    public struct Pages: AsyncSequence, Sendable {
        /// A page of rows.
        public typealias Element = [Row]
        let programmeID: Int
        let region: String?
        let pageSize: Int
        let database: PostgresClient

        /// The pages of a programme's table (or of one region in it), `pageSize` rows at most each.
        public init(programmeID: Int, region: String?, pageSize: Int = BidSummary.pageSize, database: PostgresClient) {
            self.programmeID = programmeID
            self.region = region
            self.pageSize = pageSize
            self.database = database
        }

        /// Reads the next page when asked.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let pages: Pages
            var position: Position?
            var finished = false

            /// The next page, or nil after the last.
            public mutating func next() async throws -> [Row]? {
                guard !finished else { return nil }
                let (pages, position) = (pages, position)
                let (rows, last) = try await pages.database.withConnection {
                    try await BidSummary.page(
                        programmeID: pages.programmeID, region: pages.region, after: position, limit: pages.pageSize, on: $0)
                }
                finished = rows.count < pages.pageSize
                self.position = last
                return rows.isEmpty ? nil : rows
            }
        }

        /// An iterator from the first row.
        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pages: self) }
    }

    /// The CSV's first bytes: a byte order mark (so that Excel shows the Chinese) and the header line.
    public static var csvHead: [UInt8] {
        [0xEF, 0xBB, 0xBF] + Array(csvLines(fields: [headers]).utf8)
    }

    /// Rows as CSV lines, each ended by CRLF.
    public static func csvLines(_ rows: [Row]) -> String {
        let formatter = shanghaiFormatter()
        return csvLines(fields: rows.map { csvFields($0, formatter: formatter) })
    }

    /// An ISO 8601 formatter at +08:00; made once per page, not per row.
    public static func shanghaiFormatter() -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        return formatter
    }

    /// Lines of fields as CSV, each ended by CRLF.
    static func csvLines(fields rows: [[String]]) -> String {
        var text = ""
        for row in rows {
            text += row.map(quote).joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// CSV in UTF-8 with a byte order mark, so that Excel shows the Chinese.
    public static func csv(_ rows: [Row]) -> [UInt8] {
        csvHead + Array(csvLines(rows).utf8)
    }

    /// A CSV field: quoted when it holds a comma, a quote or a line break; and, when it starts as a formula
    /// would (`=`, `+`, `-`, `@`, a tab or a carriage return), quoted with a leading `'` so that no spreadsheet
    /// runs it. Scalars are compared, since Swift reads "\r\n" as one character.
    static func quote(_ field: String) -> String {
        let formula = field.unicodeScalars.first.map { "=+-@\t\r".unicodeScalars.contains($0) } ?? false
        let special = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        guard formula || special else { return field }
        let safe = formula ? "'" + field : field
        return "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func yuan(_ fen: Int64) -> String {
        String(format: "%lld.%02lld", fen / 100, fen % 100)
    }

    static func statusName(_ status: String) -> String {
        switch status {
        case "submitted": "已提交"
        case "returned": "退回修改"
        case "recommended": "已推荐"
        case "declined": "不予推荐"
        case "formal_passed": "形式审查通过"
        case "formal_failed": "形式审查未通过"
        default: status
        }
    }
}

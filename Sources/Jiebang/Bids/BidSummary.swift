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
                throw DomainError.forbidden("programme \(programmeID) is another bureau's")
            }
            return region
        case .municipalRecommender:
            if let region, region != actor.regionCode { throw DomainError.forbidden("region \(region) is not yours") }
            return actor.regionCode
        case .systemAdmin: return region
        default: throw DomainError.forbidden("a \(actor.role.rawValue) may not export bid summaries")
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
    ) async throws -> (rows: [[String]], last: Position?) {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        var last: Position?
        let rows = try await db.query(
            """
            SELECT b.id, c.title, u.name, u.credit_code, u.region_code,
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
            last = Position(regionCode: try row.decode(String.self, at: 12), bidID: id)
            return [
                "\(id)", try row.decode(String.self, at: 1), try row.decode(String.self, at: 2),
                try row.decode(String.self, at: 3), try row.decode(String.self, at: 4), try row.decode(String.self, at: 5),
                yuan(try row.decode(Int64.self, at: 6)), yuan(try row.decode(Int64.self, at: 7)),
                yuan(try row.decode(Int64.self, at: 8)), statusName(try row.decode(String.self, at: 9)),
                "\(try row.decode(Int.self, at: 10))", try row.decode(Date?.self, at: 11).map(formatter.string(from:)) ?? "",
            ]
        }
        return (rows, last)
    }

    /// The table's rows, page after page, each page read with a statement of its own on a connection taken
    /// from `database` only while it runs: nothing is held between pages, so a slow reader holds no
    /// connection and no transaction. A failure (the database gone) ends the sequence with its error.
    public struct Pages: AsyncSequence, Sendable {
        /// A page of rows.
        public typealias Element = [[String]]
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
            public mutating func next() async throws -> [[String]]? {
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
        [0xEF, 0xBB, 0xBF] + Array(csvLines([headers]).utf8)
    }

    /// Rows as CSV lines, each ended by CRLF.
    public static func csvLines(_ rows: [[String]]) -> String {
        var text = ""
        for row in rows {
            text += row.map(quote).joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// CSV in UTF-8 with a byte order mark, so that Excel shows the Chinese.
    public static func csv(_ rows: [[String]]) -> [UInt8] {
        csvHead + Array(csvLines(rows).utf8)
    }

    /// An XLSX workbook with one sheet, 汇总表.
    public static func xlsx(_ rows: [[String]]) -> [UInt8] {
        XLSXWriter.workbook(sheetName: "汇总表", rows: [headers] + rows)
    }

    /// The workbook of `xlsx(_:)` in pieces: its `head()` already holds the header row; then the rows
    /// of each page, then its `tail()`.
    public static func xlsxStream() -> XLSXStream {
        XLSXStream(sheetName: "汇总表", firstRows: [headers])
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { ",\"\r\n".contains($0) }) || field.hasPrefix("=") || field.hasPrefix("+")
            || field.hasPrefix("-") || field.hasPrefix("@")
        else { return field }
        let safe = ["=", "+", "-", "@"].contains(where: field.hasPrefix) ? "'" + field : field
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

public import Foundation
public import Postgres

/// 汇总表: the bids of a programme (or of one city), as CSV for Excel and as XLSX.
public enum BidSummary {
    /// The table's headers.
    public static let headers = [
        "申请编号", "榜单任务", "牵头单位", "统一社会信用代码", "所在市州", "参与单位", "项目总投资（元）", "自筹资金（元）",
        "申请支持资金（元）", "状态", "提交版本", "提交时间",
    ]

    /// The rows of the table: the submitted (and later) bids of a programme, or of one city in it.
    /// A recommender gets their city's; a publisher their bureau's programmes'.
    public static func rows(programmeID: Int, region: String?, for actor: Actor, on db: PostgresConnection) async throws -> [[String]] {
        let programme = try await ProgrammeStore.programme(id: programmeID, on: db)
        var region = region
        switch actor.role {
        case .provincialPublisher:
            guard AccessPolicy.mayManageProgrammes(ofBureau: programme.bureauID, by: actor) else {
                throw DomainError.forbidden("programme \(programmeID) is another bureau's")
            }
        case .municipalRecommender:
            if let region, region != actor.regionCode { throw DomainError.forbidden("region \(region) is not yours") }
            region = actor.regionCode
        case .systemAdmin: break
        default: throw DomainError.forbidden("a \(actor.role.rawValue) may not export bid summaries")
        }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        return try await db.query(
            """
            SELECT b.id, c.title, u.name, u.credit_code, u.region_code,
                   coalesce((SELECT string_agg(pu.name, '；' ORDER BY pu.name) FROM bid_members m JOIN units pu ON pu.id = m.unit_id
                             WHERE m.bid_id = b.id AND m.role = 'partner' AND m.status = 'accepted'), ''),
                   b.total_investment_fen, b.self_funding_fen, b.requested_funding_fen, b.status::text, b.version, b.submitted_at
            FROM bids b JOIN challenges c ON c.id = b.challenge_id JOIN units u ON u.id = b.lead_unit_id
            WHERE b.programme_id = \(programmeID) AND b.status NOT IN ('draft', 'withdrawn')
              AND (\(region)::text IS NULL OR b.region_code = \(region))
            ORDER BY b.region_code, b.id
            """
        ).map { row in
            [
                "\(try row.decode(Int.self, at: 0))", try row.decode(String.self, at: 1), try row.decode(String.self, at: 2),
                try row.decode(String.self, at: 3), try row.decode(String.self, at: 4), try row.decode(String.self, at: 5),
                yuan(try row.decode(Int64.self, at: 6)), yuan(try row.decode(Int64.self, at: 7)),
                yuan(try row.decode(Int64.self, at: 8)), statusName(try row.decode(String.self, at: 9)),
                "\(try row.decode(Int.self, at: 10))", try row.decode(Date?.self, at: 11).map(formatter.string(from:)) ?? "",
            ]
        }
    }

    /// CSV in UTF-8 with a byte order mark, so that Excel shows the Chinese.
    public static func csv(_ rows: [[String]]) -> [UInt8] {
        var text = ""
        for row in [headers] + rows {
            text += row.map(quote).joined(separator: ",") + "\r\n"
        }
        return [0xEF, 0xBB, 0xBF] + Array(text.utf8)
    }

    /// An XLSX workbook with one sheet, 汇总表.
    public static func xlsx(_ rows: [[String]]) -> [UInt8] {
        XLSXWriter.workbook(sheetName: "汇总表", rows: [headers] + rows)
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

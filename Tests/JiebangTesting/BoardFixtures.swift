import Foundation
import Jiebang
public import Postgres

/// Rows for board and challenge tests, inserted with SQL as a bureau's import would.
public enum BoardFixtures {
    public static func programme(_ db: PostgresClient) async throws -> Int {
        try await db.withConnection { conn in
            let bureau = try await AccountStore.createBureau(name: "甘肃省工业和信息化厅", level: "province", regionCode: "620000", on: conn)
            return try await conn.query(
                """
                INSERT INTO programmes (name, year, bureau_id, application_opens_at, application_closes_at)
                VALUES ('2025年甘肃省产业科技创新揭榜挂帅', 2025, \(bureau), now() - interval '30 days', now() + interval '365 days')
                RETURNING id
                """
            ).first!.decode(Int.self)
        }
    }

    public static func challenge(
        _ db: PostgresConnection, programme: Int, title: String, content: String, status: String = "published",
        domain: String = "新材料", deadlineDays: Int = 30
    ) async throws -> Int {
        try await db.query(
            """
            INSERT INTO challenges (programme_id, title, task, content, indicators, category, domain, industry_chain,
                                    application_deadline, completion_deadline, funding_ceiling_fen, status, published_at)
            VALUES (\(programme), \(title), '攻关任务说明', \(content), ARRAY['指标一'], 'key_product', \(domain), '有色冶金',
                    now() + \(deadlineDays) * interval '1 day', (now() + interval '3 years')::date, 500000000,
                    \(status)::challenge_status, CASE WHEN \(status) = 'draft' THEN NULL ELSE now() END)
            RETURNING id
            """
        ).first!.decode(Int.self)
    }
}

import Foundation
@testable import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("The public board")
struct BoardTests {
    /// A provincial bureau and a programme; returns the programme's id.
    @Test("A two-character Chinese keyword finds exactly the challenges that contain it, drafts never")
    func chineseKeyword() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let programme = try await BoardFixtures.programme(db)
            let (rareEarth, scattered, hydrogen, draft) = try await db.withConnection { conn in
                (
                    try await BoardFixtures.challenge(conn, programme: programme, title: "高性能稀土永磁材料制备", content: "突破稀土永磁关键工艺"),
                    try await BoardFixtures.challenge(conn, programme: programme, title: "稀有金属回收与土壤修复", content: "稀有金属，土壤修复"),
                    try await BoardFixtures.challenge(conn, programme: programme, title: "氢能储运装备攻关", content: "高压氢能储运 NdFeB 对照", domain: "能源化工"),
                    try await BoardFixtures.challenge(conn, programme: programme, title: "稀土功能材料（草稿）", content: "稀土功能材料", status: "draft")
                )
            }
            _ = draft
            func search(_ keyword: String?, domain: String? = nil) async throws -> [Int] {
                var query = BoardStore.Query()
                query.keyword = keyword
                query.domain = domain
                return try await db.withConnection { try await BoardStore.search(query, on: $0) }.entries.map(\.id)
            }
            #expect(try await search("稀土") == [rareEarth])
            #expect(try await search("稀土永磁") == [rareEarth])
            #expect(try await search("氢能储运") == [hydrogen])
            #expect(try await search("ndfeb") == [hydrogen])
            #expect(try await search("氢") == [hydrogen])
            #expect(try await search("ND") == [hydrogen])
            #expect(try await search(" 储运 ") == [hydrogen])
            #expect(try await search("土壤修复") == [scattered])
            #expect(Set(try await search("稀")) == [rareEarth, scattered])
            #expect(Set(try await search(nil)) == [rareEarth, scattered, hydrogen])
            #expect(try await search(nil, domain: "能源化工") == [hydrogen])
            #expect(try await search("不存在的词").isEmpty)
        }
    }

    @Test("Pages follow the deadline order without gaps or repeats")
    func cursorPagination() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let programme = try await BoardFixtures.programme(db)
            var ids: [Int] = []
            try await db.withConnection { conn in
                for day in 0..<25 {
                    ids.append(try await BoardFixtures.challenge(conn, programme: programme, title: "稀土课题 \(day)", content: "稀土材料研究", deadlineDays: 10 + day % 7))
                }
            }
            var seen: [Int] = []
            var query = BoardStore.Query()
            query.keyword = "稀土"
            query.limit = 7
            while true {
                let page = try await db.withConnection { try await BoardStore.search(query, on: $0) }
                seen += page.entries.map(\.id)
                guard let next = page.next else { break }
                query.after = next
            }
            #expect(seen.count == 25)
            #expect(Set(seen) == Set(ids))
        }
    }

    @Test("With 5,000 challenges a selective keyword is a bitmap scan of the gram index, not a sequential scan")
    func keywordUsesIndex() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let programme = try await BoardFixtures.programme(db)
            try await db.execute(
                """
                INSERT INTO challenges (programme_id, title, task, content, indicators, category, domain, industry_chain,
                                        application_deadline, completion_deadline, funding_ceiling_fen, status, published_at)
                SELECT \(programme),
                       CASE WHEN i % 100 = 0 THEN '稀土永磁' ELSE (ARRAY['氢能储运', '光伏组件', '锂电池回收', '智能装备'])[1 + i % 4] END
                           || '攻关课题' || i,
                       '攻关任务说明', repeat('关键核心技术研发与产业化应用', 5) || i, ARRAY['指标'], 'core_basic', '新材料', '有色冶金',
                       now() + interval '30 days', (now() + interval '3 years')::date, 100000000, 'published', now()
                FROM generate_series(1, 5000) AS i
                """)
            try await db.execute("ANALYZE challenges")
            // The statement the store runs, for a one-gram keyword and a longer one, with and without a domain.
            for (keyword, domain) in [("稀土", nil), ("稀土", "新材料"), ("稀土永磁", nil), ("稀土永磁", "新材料")] {
                var query = BoardStore.Query()
                query.keyword = keyword
                query.domain = domain
                let plan = try await db.query("EXPLAIN \(fragment: BoardStore.statement(query, limit: 21))")
                    .decode(String.self).joined(separator: "\n")
                #expect(plan.contains("Bitmap Index Scan on challenges_domain_grams"), "\(keyword) \(domain ?? "-"): \(plan)")
                #expect(!plan.contains("Seq Scan"), "\(keyword) \(domain ?? "-"): \(plan)")
            }
            var query = BoardStore.Query()
            query.keyword = "稀土"
            query.limit = 100
            let page = try await db.withConnection { try await BoardStore.search(query, on: $0) }
            #expect(page.entries.count == 50)
            #expect(page.entries.allSatisfy { $0.title.hasPrefix("稀土永磁") })
        }
    }

    @Test("A published challenge changes only with an amendment, and never returns to draft")
    func amendmentsRequired() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let programme = try await BoardFixtures.programme(db)
            let id = try await db.withConnection { try await BoardFixtures.challenge($0, programme: programme, title: "氢能储运装备攻关", content: "高压储氢") }
            await #expect {
                try await db.execute("UPDATE challenges SET funding_ceiling_fen = 1 WHERE id = \(id)")
            } throws: { ($0 as? PostgresError)?.constraint == "challenges_amendment_required" }
            try await db.withTransaction { tx in
                try await tx.execute(
                    "INSERT INTO challenge_amendments (challenge_id, version, reason, changes) VALUES (\(id), 2, '调整支持额度', '{\"funding_ceiling_fen\": 300000000}')")
                try await tx.execute("UPDATE challenges SET funding_ceiling_fen = 300000000, version = 2 WHERE id = \(id)")
            }
            await #expect {
                try await db.execute("UPDATE challenges SET status = 'draft', published_at = NULL WHERE id = \(id)")
            } throws: { ($0 as? PostgresError)?.constraint == "challenges_status_forward" }
            let municipal = try await db.withConnection {
                try await AccountStore.createBureau(name: "兰州市工业和信息化局", level: "municipal", regionCode: "620100", on: $0)
            }
            await #expect {
                try await db.execute(
                    "INSERT INTO programmes (name, year, bureau_id, application_opens_at, application_closes_at) VALUES ('市级批次', 2025, \(municipal), '2025-03-01', '2025-05-31')")
            } throws: { ($0 as? PostgresError)?.constraint == "programmes_bureau_province" }
        }
    }
}

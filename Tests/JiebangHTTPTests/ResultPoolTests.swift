import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// The result pool (成果库): universities' and institutes' results, and accepted projects' by themselves.
@Suite("The result pool")
struct ResultPoolTests {
    static func input(unitID: Int) -> ResultFiling.Input {
        ResultFiling.Input(
            unitID: unitID, title: "镍钴湿法冶金新工艺", summary: "高压酸浸提取镍钴的连续化工艺，回收率提高5个百分点。", domain: "有色冶金",
            industryChain: "有色冶金", keywords: ["镍钴", "湿法冶金"], maturity: 6, ipStatus: "patent_granted", contactName: "赵工",
            contactPhone: "0935-8123456", contactEmail: "zhao@example.cn")
    }

    @Test(
        "An institute files a result and reads it; an enterprise is refused naming unitID, in Swift and in the database; another unit gets 404 as for a missing id"
    )
    func fileAndRead() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            func actor(_ name: String) async throws -> Actor {
                try await db.withConnection { try await AccountStore.authenticate(AccessToken(value: fixture.tokens[name]!), on: $0)! }
            }
            let institute = try await actor("memberB")
            let enterprise = try await actor("memberA")
            let filed = try await db.withTransaction {
                try await ResultFiling.file(Self.input(unitID: fixture.unitB), by: institute, on: $0)
            }
            #expect(filed.unitID == fixture.unitB && filed.regionCode == "620300" && filed.keywords == ["镍钴", "湿法冶金"])
            #expect(filed.maturity == 6 && filed.projectID == nil)
            let read = try await db.withConnection { try await ResultFiling.result(id: filed.id, for: institute, on: $0) }
            #expect(read == filed)

            let refused = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction { try await ResultFiling.file(Self.input(unitID: fixture.unitA), by: enterprise, on: $0) }
            }
            #expect("\(String(describing: refused))".contains("neither a university nor an institute"))
            let byHand = await ReviewRoundTests.violation {
                try await db.execute(
                    """
                    INSERT INTO results (unit_id, region_code, title, summary, domain, industry_chain, maturity, ip_status,
                                         contact_name, contact_phone, contact_email)
                    VALUES (\(fixture.unitA), '620100', '某企业的成果', '一个企业不能提交成果，只能提交需求。', '有色冶金', '有色冶金', 5, 'none',
                            '李娜', '0931-8123456', 'li@example.cn')
                    """)
            }
            #expect(byHand == "results_university_or_institute")

            var bad = Self.input(unitID: fixture.unitB)
            bad.maturity = 10
            bad.ipStatus = "secret"
            bad.keywords = ["镍钴", "镍钴"]
            let invalid = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction { try await ResultFiling.file(bad, by: institute, on: $0) }
            }
            let text = "\(String(describing: invalid))"
            #expect(text.contains("maturity") && text.contains("ipStatus") && text.contains("keywords"), "\(text)")

            let hidden = await #expect(throws: DomainError.self) {
                _ = try await db.withConnection { try await ResultFiling.result(id: filed.id, for: enterprise, on: $0) }
            }
            let missing = await #expect(throws: DomainError.self) {
                _ = try await db.withConnection { try await ResultFiling.result(id: 2_000_000_000, for: enterprise, on: $0) }
            }
            #expect(hidden == .notFound("no result has id \(filed.id)"))
            #expect(missing == .notFound("no result has id 2000000000"))
            let listed = try await db.withConnection { try await ResultFiling.list(beforeID: nil, limit: 50, for: enterprise, on: $0) }
            #expect(listed.isEmpty)
            #expect(try await db.query("SELECT count(*) FROM results").first!.decode(Int.self) == 1)
        }
    }

    @Test("An accepted project's result record enters the pool by itself, under its lead unit, once, whoever writes it")
    func acceptedProjectsEnter() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ProjectTests.awarded(db, bids: 1)
            let project = try await db.withTransaction {
                try await ProjectStore.create(ProjectTests.input(bid: world.bidIDs[0]), by: world.publisher, on: $0).id
            }
            // The acceptance itself is AcceptanceTests' business: here the project is marked accepted directly.
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL session_replication_role = replica")
                try await tx.execute("UPDATE projects SET status = 'accepted' WHERE id = \(project)")
            }
            try await db.execute(
                "INSERT INTO achievements (project_id, title, summary) VALUES (\(project), '高纯镍钴材料', '完成全部指标，建成示范线一条。')")
            let rows = try await db.query(
                "SELECT r.unit_id, r.project_id, r.title, r.ip_status, r.maturity FROM results r WHERE r.project_id = \(project)"
            ).decode((Int, Int, String, String, Int).self)
            let lead = try await db.query("SELECT lead_unit_id FROM projects WHERE id = \(project)").first!.decode(Int.self)
            #expect(rows.count == 1)
            #expect(rows.first?.0 == lead)
            #expect(rows.first?.2 == "高纯镍钴材料")
            #expect(rows.first?.3 == "unstated")
            let twice = await ReviewRoundTests.violation {
                try await db.execute(
                    """
                    INSERT INTO results (unit_id, region_code, project_id, title, summary, domain, industry_chain, maturity, ip_status,
                                         contact_name, contact_phone, contact_email)
                    SELECT unit_id, region_code, project_id, title, summary, domain, industry_chain, maturity, ip_status,
                           contact_name, contact_phone, contact_email FROM results WHERE project_id = \(project)
                    """)
            }
            #expect(twice == "results_project_id_key")
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// A bureau turns a demand into a draft challenge in one step (issue 26); only open demands become challenges.
@Suite("From a demand to a draft challenge")
struct DemandChallengeTests {
    /// What a demand cannot say, and the programme.
    static func body(programme: Int) -> [String: Any] {
        var body = Bodies.challenge().filter {
            ["category", "indicators", "applicationDeadline", "completionDeadline", "fundingCeilingFen"].contains($0.key)
        }
        body["programmeID"] = programme
        return body
    }

    /// A programme of Gansu's bureau, an open demand of unit A and a matching result of unit B.
    static func world(_ db: PostgresClient) async throws -> (fixture: APIFixture, programme: Int, demand: Int, result: Int) {
        let fixture = try await APIFixture.make(db)
        func actor(_ name: String) async throws -> Actor {
            try await db.withConnection { try await AccountStore.authenticate(AccessToken(value: fixture.tokens[name]!), on: $0)! }
        }
        let publisher = try await actor("publisher")
        let enterprise = try await actor("memberA")
        let institute = try await actor("memberB")
        return try await db.withTransaction { tx in
            let now = Date()
            let programme = try await ProgrammeStore.create(
                .init(name: "2026年揭榜挂帅", year: 2026, applicationOpensAt: now, applicationClosesAt: now + 200 * 86_400),
                by: publisher, on: tx
            ).id
            let demand = try await DemandFiling.file(
                .init(
                    unitID: fixture.unitA, industryChain: "有色冶金", need: "镍钴湿法冶金中高压酸浸的连续化与回收率提升\n现有工艺回收率低于90%。",
                    supportConditions: "提供中试场地", contactName: "李娜", contactPhone: "0931-8123456", contactEmail: "li@example.cn"),
                by: enterprise, on: tx
            ).id
            var input = ResultPoolTests.input(unitID: fixture.unitB)
            input.title = "镍钴湿法冶金连续化工艺"
            let result = try await ResultFiling.file(input, by: institute, on: tx).id
            return (fixture, programme, demand, result)
        }
    }

    @Test(
        "A publisher turns a demand into a draft challenge in one step: its text from the demand, linked to it, the candidate results listed as 候选成果 lines, which must go before it is published, in the API and in the database"
    )
    func oneStep() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (fixture, programme, demand, result) = try await Self.world(db)
            try await PoolMatchingTests.drainRematches(db)
            try await fixture.application().test(.router) { client in
                let drafted = try await client.call(
                    .post, "/v1/demands/\(demand)/challenge", as: "publisher", fixture: fixture, json: Self.body(programme: programme))
                #expect(drafted.status == .created, "\(drafted.object)")
                let object = drafted.object
                #expect(object["status"] as? String == "draft" && object["programmeID"] as? Int == programme)
                #expect(object["demandIDs"] as? [Int] == [demand])
                #expect(object["title"] as? String == "镍钴湿法冶金中高压酸浸的连续化与回收率提升")
                #expect(object["industryChain"] as? String == "有色冶金" && object["domain"] as? String == "有色冶金")
                let content = try #require(object["content"] as? String)
                #expect(content.contains("支持条件：提供中试场地"))
                let candidates = content.split(separator: "\n").filter { $0.hasPrefix(ChallengeDrafting.candidatePrefix) }
                #expect(candidates.first?.contains("镍钴湿法冶金连续化工艺（成果编号 \(result)；金川镍钴研究院；技术成熟度6") == true, "\(content)")
                #expect(candidates.first?.contains("同属有色冶金产业链") == true)
                let id = try #require(object["id"] as? Int)
                let shown = try await client.call(.get, "/v1/challenges/\(id)", as: "publisher", fixture: fixture)
                #expect(shown.object["demandIDs"] as? [Int] == [demand])

                let published = try await client.call(.post, "/v1/challenges/\(id)/publish", as: "publisher", fixture: fixture)
                #expect(published.status == .unprocessableContent && published.problemFields == ["content"], "\(published.object)")
                let byHand = await #expect(throws: PostgresError.self) {
                    try await db.execute("UPDATE challenges SET status = 'published', published_at = now() WHERE id = \(id)")
                }
                #expect(byHand?.constraint == "challenges_published_without_candidates")
                try await db.execute(
                    "UPDATE challenges SET content = regexp_replace(content, '\\n候选成果：[^\\n]*', '', 'g') WHERE id = \(id)")
                let cleaned = try await client.call(.post, "/v1/challenges/\(id)/publish", as: "publisher", fixture: fixture)
                #expect(cleaned.status == .ok, "\(cleaned.object)")

                var custom = Self.body(programme: programme)
                custom["title"] = "镍钴高压酸浸连续化技术攻关"
                let titled = try await client.call(
                    .post, "/v1/demands/\(demand)/challenge", as: "publisher", fixture: fixture, json: custom)
                #expect(titled.object["title"] as? String == "镍钴高压酸浸连续化技术攻关")

                let missing = try await client.call(
                    .post, "/v1/demands/\(demand)/challenge", as: "publisher", fixture: fixture, json: ["programmeID": programme])
                #expect(missing.status == .unprocessableContent)
                #expect(
                    missing.problemFields == ["applicationDeadline", "completionDeadline", "fundingCeilingFen", "category", "indicators"])
            }
        }
    }

    @Test("A unit's people and a municipal bureau get 403; another province's publisher gets 404 as for a missing demand")
    func onlyThePublisher() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (fixture, programme, demand, _) = try await Self.world(db)
            try await fixture.application().test(.router) { client in
                for person in ["memberA", "adminA", "memberB", "lanzhou", "expert", "admin"] {
                    let refused = try await client.call(
                        .post, "/v1/demands/\(demand)/challenge", as: person, fixture: fixture, json: Self.body(programme: programme))
                    #expect(refused.status == .forbidden, "\(person)")
                }
                let hidden = try await client.call(
                    .post, "/v1/demands/\(demand)/challenge", as: "otherPublisher", fixture: fixture, json: Self.body(programme: programme))
                let ghost = try await client.call(
                    .post, "/v1/demands/2000000000/challenge", as: "otherPublisher", fixture: fixture,
                    json: Self.body(programme: programme))
                #expect(hidden.status == .notFound && ghost.status == .notFound)
                #expect(hidden.object["detail"] as? String == "no demand has id \(demand)")
                #expect(try await db.query("SELECT count(*) FROM challenges").first!.decode(Int.self) == 0)
            }
        }
    }

    @Test(
        "A closed or lapsed demand is refused with 422 naming demandIDs, in one step and through demandIDs, and by the database for hand-written SQL; a link made while it was open stays"
    )
    func closedAndLapsedDemandsRefused() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (fixture, programme, demand, _) = try await Self.world(db)
            try await fixture.application().test(.router) { client in
                let drafted = try await client.call(
                    .post, "/v1/demands/\(demand)/challenge", as: "publisher", fixture: fixture, json: Self.body(programme: programme))
                let draft = try #require(drafted.object["id"] as? Int)
                let lapsed = try await db.query(
                    """
                    INSERT INTO demands (unit_id, region_code, industry_chain, need, contact_name, contact_phone, contact_email,
                                         confirmed_at)
                    VALUES (\(fixture.unitA), '620100', '新材料', '稀土永磁材料的低成本制备工艺', '王工', '0931-1234567',
                            'wang@example.com', now() - interval '7 months')
                    RETURNING id
                    """
                ).first!.decode(Int.self)
                try await db.execute("UPDATE demands SET status = 'lapsed', lapsed_at = now() WHERE id = \(lapsed)")
                try await db.execute("UPDATE demands SET status = 'closed', closed_at = now() WHERE id = \(demand)")

                for gone in [demand, lapsed] {
                    let oneStep = try await client.call(
                        .post, "/v1/demands/\(gone)/challenge", as: "publisher", fixture: fixture, json: Self.body(programme: programme))
                    #expect(oneStep.status == .unprocessableContent && oneStep.problemFields == ["demandIDs"], "\(oneStep.object)")
                    var body = Bodies.challenge()
                    body["demandIDs"] = [gone]
                    let direct = try await client.call(
                        .post, "/v1/programmes/\(programme)/challenges", as: "publisher", fixture: fixture, json: body)
                    #expect(direct.status == .unprocessableContent && direct.problemFields == ["demandIDs"], "\(direct.object)")
                    let byHand = await ReviewRoundTests.violation {
                        try await db.execute("INSERT INTO challenge_demands (challenge_id, demand_id) VALUES (\(draft), \(gone))")
                    }
                    #expect(byHand == "challenge_demands_demand_open")
                }

                // The draft condensed from the demand while it was open keeps its link through an edit.
                var edit = Bodies.challenge(title: "镍钴湿法冶金连续化攻关")
                edit["demandIDs"] = [demand]
                let revision = try #require(
                    try await client.call(.get, "/v1/challenges/\(draft)", as: "publisher", fixture: fixture).etag)
                let edited = try await client.call(
                    .put, "/v1/challenges/\(draft)", as: "publisher", fixture: fixture, json: edit, headers: [.ifMatch: revision])
                #expect(edited.status == .ok, "\(edited.object)")
                #expect(edited.object["demandIDs"] as? [Int] == [demand])
                edit["demandIDs"] = [demand, lapsed]
                let revised = try #require(edited.etag)
                let added = try await client.call(
                    .put, "/v1/challenges/\(draft)", as: "publisher", fixture: fixture, json: edit, headers: [.ifMatch: revised])
                #expect(added.status == .unprocessableContent && added.problemFields == ["demandIDs"])
            }
        }
    }
}

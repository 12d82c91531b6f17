import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Postgres
import Testing

@Suite("Award: winners, 公示, objections, finalisation and the public list")
struct AwardHTTPTests {
    /// A world whose round is closed: every bid scored by three experts (bid i gets 90 − 10·i).
    static func closedWorld(_ db: PostgresClient, bids: Int, challenges: Int = 1, winners: Int = 1) async throws -> ScoringWorld {
        let world = try await ScoringWorld.make(db, bids: bids, experts: 3, challenges: challenges, winners: winners)
        let seats = try await world.assignPanels(3)
        let keys = ["rd_foundation", "innovation", "technical_plan", "funding"]
        for (bid, row) in seats.enumerated() {
            for (expert, seat) in row.enumerated() {
                try await db.withTransaction { tx in
                    let actor = world.experts[expert].actor
                    _ = try await ScoreSheet.save(
                        assignmentID: seat, keys.map { .init(criterion: $0, score: 90 - 10 * bid) }, by: actor, on: tx)
                    _ = try await ScoreSheet.submit(assignmentID: seat, by: actor, on: tx)
                }
            }
        }
        let publisher = try await Self.publisher(world)
        _ = try await db.withTransaction { try await RoundRanking.close(roundID: world.round, by: publisher, on: $0) }
        return world
    }

    static func publisher(_ world: ScoringWorld) async throws -> Actor {
        try await world.db.withConnection {
            try await AccountStore.authenticate(AccessToken(value: world.fixture.tokens["publisher"]!), on: $0)!
        }
    }

    @Test(
        "The publisher picks at most N formally passed bids of the challenge after the round closed, sees the top N suggested, and publishes them at once"
    )
    func picks() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.closedWorld(db, bids: 4, winners: 2)
            let challenge = world.world.challenges[0]
            let people = world.everyone
            try await people.application().test(.router) { client in
                let award = try await client.call(.get, "/v1/challenges/\(challenge)/winners", as: "publisher", fixture: people)
                #expect(award.object["stage"] as? String == "pending")
                #expect(award.object["suggested"] as? [Int] == Array(world.bids.prefix(2)))
                #expect(
                    try await client.call(.put, "/v1/challenges/\(challenge)/winners/\(world.bids[0])", as: "publisher", fixture: people)
                        .status == .ok)
                #expect(
                    try await client.call(.put, "/v1/challenges/\(challenge)/winners/\(world.bids[0])", as: "publisher", fixture: people)
                        .status == .ok)
                #expect(
                    try await client.call(.put, "/v1/challenges/\(challenge)/winners/\(world.bids[3])", as: "publisher", fixture: people)
                        .status == .ok)
                let third = try await client.call(
                    .put, "/v1/challenges/\(challenge)/winners/\(world.bids[1])", as: "publisher", fixture: people)
                #expect(third.status == .conflict)
                #expect(third.problemFields == ["winners"])
                #expect(
                    try await client.call(.delete, "/v1/challenges/\(challenge)/winners/\(world.bids[3])", as: "publisher", fixture: people)
                        .status == .ok)
                #expect(
                    try await client.call(.delete, "/v1/challenges/\(challenge)/winners/\(world.bids[3])", as: "publisher", fixture: people)
                        .status == .notFound)
                let picked = try await client.call(
                    .put, "/v1/challenges/\(challenge)/winners/\(world.bids[1])", as: "publisher", fixture: people)
                let winners = picked.object["winners"] as? [[String: Any]] ?? []
                #expect(winners.map { $0["bidID"] as? Int } == [world.bids[0], world.bids[1]])
                #expect(winners.map { $0["rank"] as? Int } == [1, 2])
                let foreign = try await client.call(.put, "/v1/challenges/\(challenge)/winners/999999", as: "publisher", fixture: people)
                #expect(foreign.status == .unprocessableContent)
                #expect(
                    try await client.call(
                        .put, "/v1/challenges/\(challenge)/winners/\(world.bids[2])", as: "otherPublisher", fixture: people
                    ).status == .notFound)
                #expect(
                    try await client.call(.put, "/v1/challenges/\(challenge)/winners/\(world.bids[2])", as: "adminA", fixture: people)
                        .status == .forbidden)
                #expect(try await client.call(.get, "/v1/board/winners", fixture: people).object["items"] as? [Any] != nil)
                #expect((try await client.call(.get, "/v1/board/winners", fixture: people).object["items"] as? [Any])?.isEmpty == true)
                // The notice keeps the audit chain's head as it was when it went out.
                _ = try await db.withTransaction { try await AuditChain.seal(on: $0) }
                let head = try await db.withConnection { try await AuditChain.head(on: $0) }
                #expect(head.seq > 0)
                let published = try await client.call(
                    .post, "/v1/challenges/\(challenge)/winners/publish", as: "publisher", fixture: people)
                #expect(published.status == .ok)
                #expect(published.object["stage"] as? String == "published")
                #expect(
                    try await client.call(.post, "/v1/challenges/\(challenge)/winners/publish", as: "publisher", fixture: people).status
                        == .conflict)
                #expect(
                    try await client.call(.delete, "/v1/challenges/\(challenge)/winners/\(world.bids[1])", as: "publisher", fixture: people)
                        .status == .conflict)
                let board = try await client.call(.get, "/v1/board/winners?programme=\(world.world.programme)")
                let items = board.object["items"] as? [[String: Any]] ?? []
                #expect(items.count == 2)
                #expect(items.allSatisfy { $0["stage"] as? String == "published" && $0["trimmedMean"] == nil && $0["totals"] == nil })
                #expect(items.allSatisfy { $0["auditHead"] as? String == head.description }, "\(items)")
                let page = try await client.execute(uri: "/programmes/\(world.world.programme)", method: .get)
                #expect(String(buffer: page.body).contains("发布时审计链头：<code>\(head.description)</code>"))
                // The database holds the rules whatever writes.
                #expect(
                    await ScoringHTTPTests.refusal(db, "DELETE FROM awards WHERE challenge_id = \(challenge)") == "awards_published_fixed")
                #expect(
                    await ScoringHTTPTests.refusal(db, "DELETE FROM award_notices WHERE challenge_id = \(challenge)")
                        == "award_notices_fixed")
                #expect(
                    await ScoringHTTPTests.refusal(
                        db, "UPDATE award_notices SET objections_close_at = now() WHERE challenge_id = \(challenge)")
                        == "award_notices_fixed")
                #expect(
                    await ScoringHTTPTests.refusal(db, "UPDATE award_notices SET finalised_at = now() WHERE challenge_id = \(challenge)")
                        == "award_notices_period_open")
            }
        }
    }

    @Test("The database refuses a winner that is not a formally passed bid of the challenge, one before the round closed, and one beyond N")
    func databaseRules() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 3, experts: 3, challenges: 2)
            let (a, b) = (world.world.challenges[0], world.world.challenges[1])
            func insert(_ challenge: Int, _ bid: Int) -> PostgresQuery {
                "INSERT INTO awards (challenge_id, bid_id, round_id) VALUES (\(challenge), \(bid), \(world.round))"
            }
            #expect(await ScoringHTTPTests.refusal(db, insert(a, world.bids[0])) == "awards_round_closed")
            _ = try await world.assignPanels(3)
            try await world.setDeadline(Date() - 1)
            let publisher = try await Self.publisher(world)
            _ = try await db.withTransaction { try await RoundRanking.close(roundID: world.round, by: publisher, on: $0) }
            // bids[1] is on challenge b.
            #expect(await ScoringHTTPTests.refusal(db, insert(a, world.bids[1])) == "awards_bid_eligible")
            try await db.execute("UPDATE bids SET status = 'withdrawn' WHERE id = \(world.bids[2])")
            #expect(await ScoringHTTPTests.refusal(db, insert(a, world.bids[2])) == "awards_bid_eligible")
            #expect(await ScoringHTTPTests.refusal(db, insert(a, world.bids[0])) == nil)
            // Picking it again by SQL changes nothing.
            #expect(
                await ScoringHTTPTests.refusal(
                    db,
                    "INSERT INTO awards (challenge_id, bid_id, round_id) VALUES (\(a), \(world.bids[0]), \(world.round)) ON CONFLICT DO NOTHING"
                )
                    == nil)
            #expect(
                await ScoringHTTPTests.refusal(
                    db,
                    "INSERT INTO award_notices (challenge_id, round_id, first_day, last_day, objections_close_at) VALUES (\(b), \(world.round), current_date, current_date, now())"
                ) == "award_notices_winners")
        }
    }

    @Test("Two publishers picking different bids at once beyond N: exactly one pick stands, through Swift and through SQL")
    func concurrentPicks() async throws {
        try await TestDatabase.withFreshDatabase(maximumConnections: 12) { db in
            let world = try await Self.closedWorld(db, bids: 6, challenges: 2, winners: 1)
            let publisher = try await Self.publisher(world)
            let challenge = world.world.challenges[0]
            // Bids 0, 2, 4 are on challenge 0.
            let candidates = [world.bids[0], world.bids[2], world.bids[4]]
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for bid in candidates {
                    group.addTask {
                        do {
                            _ = try await db.withTransaction {
                                try await AwardStore.pick(challengeID: challenge, bidID: bid, by: publisher, on: $0)
                            }
                            return true
                        } catch let error as DomainError {
                            guard case .conflict = error else { throw error }
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            let other = world.world.challenges[1]
            let otherBids = [world.bids[1], world.bids[3], world.bids[5]]
            let raw = await withTaskGroup(of: String?.self) { group in
                for bid in otherBids {
                    group.addTask {
                        await ScoringHTTPTests.refusal(
                            db, "INSERT INTO awards (challenge_id, bid_id, round_id) VALUES (\(other), \(bid), \(world.round))")
                    }
                }
                return await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(raw.filter { $0 == nil }.count == 1)
            #expect(raw.filter { $0 == "awards_winners_limit" }.count == 2)
            let counts = try await db.query("SELECT count(*) FROM awards GROUP BY challenge_id").decode(Int.self)
            #expect(counts == [1, 1])
        }
    }

    @Test("公示 lasts the programme's working days after publication in Asia/Shanghai, across weekends and holidays, as Swift computes it")
    func publicityDays() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await db.execute("INSERT INTO public_holidays (day, name) VALUES ('2026-12-08', '测试假日')")
            for (published, days) in [
                ("2026-12-03 15:00:00+08", 5), ("2026-12-04 23:30:00+08", 1), ("2026-12-05 10:00:00+08", 5), ("2026-12-31 09:00:00+08", 3),
            ] {
                let row = try await db.query(
                    "SELECT first_day::text, last_day::text, closes_at, \(published)::timestamptz FROM publicity_period(\(published)::timestamptz, \(days)::integer)"
                ).first!
                let (first, last, closes, at) = try row.decode((String, String, Date, Date).self)
                let swift = PublicityPeriod(publishedAt: at, workingDays: days, holidays: ["2026-12-08"])
                #expect(first == swift.firstDay && last == swift.lastDay && closes == swift.objectionsCloseAt, "\(published)")
            }
            let thursday = try await db.query("SELECT last_day::text FROM publicity_period('2026-12-03 15:00:00+08', 5)").first!.decode(
                String.self)
            // Fri 4, Mon 7, (Tue 8 holiday), Wed 9, Thu 10, Fri 11.
            #expect(thursday == "2026-12-11")
        }
    }

    @Test(
        "Objections are signed, shown with their objector only to the publisher, and block finalisation until resolved; none after the period; then the list is final on the board"
    )
    func objectionsAndFinal() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.closedWorld(db, bids: 2)
            let challenge = world.world.challenges[0]
            let people = world.everyone
            try await people.application().test(.router) { client in
                #expect(
                    try await client.call(
                        .post, "/v1/challenges/\(challenge)/objections", as: "memberB", fixture: people,
                        json: ["text": "牵头单位研发基础条件与申报材料不符。"]
                    ).status == .notFound)
                _ = try await client.call(.put, "/v1/challenges/\(challenge)/winners/\(world.bids[0])", as: "publisher", fixture: people)
                let published = try await client.call(
                    .post, "/v1/challenges/\(challenge)/winners/publish", as: "publisher", fixture: people)
                let notice = published.object["notice"] as? [String: Any]
                #expect(notice?["firstDay"] as? String != nil)
                #expect(
                    try await client.call(.post, "/v1/challenges/\(challenge)/objections", json: ["text": "匿名异议不被受理，需要签名。"]).status
                        == .unauthorized)
                let short = try await client.call(
                    .post, "/v1/challenges/\(challenge)/objections", as: "memberB", fixture: people, json: ["text": "不服"])
                #expect(short.status == .unprocessableContent)
                #expect(short.problemFields == ["text"])
                let filed = try await client.call(
                    .post, "/v1/challenges/\(challenge)/objections", as: "memberB", fixture: people, json: ["text": "牵头单位研发基础条件与申报材料不符。"])
                #expect(filed.status == .created)
                #expect(filed.object["objectorID"] == nil)
                let objection = filed.object["id"] as? Int ?? 0
                #expect(
                    try await client.call(.get, "/v1/challenges/\(challenge)/objections", as: "memberB", fixture: people).status
                        == .forbidden)
                #expect(
                    try await client.call(.get, "/v1/challenges/\(challenge)/objections", as: "otherPublisher", fixture: people).status
                        == .notFound)
                let listed = try await client.call(.get, "/v1/challenges/\(challenge)/objections", as: "publisher", fixture: people)
                #expect((listed.object["items"] as? [[String: Any]])?.first?["objectorName"] as? String == "memberB")
                #expect(
                    try await client.call(.post, "/v1/challenges/\(challenge)/winners/finalise", as: "publisher", fixture: people).status
                        == .conflict)
                try await world.endPeriod(of: challenge)
                let late = try await client.call(
                    .post, "/v1/challenges/\(challenge)/objections", as: "adminB", fixture: people, json: ["text": "公示期结束后提出的异议。"])
                #expect(late.status == .conflict)
                #expect(
                    await ScoringHTTPTests.refusal(
                        db,
                        "INSERT INTO award_objections (challenge_id, objector_id, text) SELECT \(challenge), id, '公示期结束后直接写入的异议' FROM users WHERE login = 'adminb'"
                    ) == "award_objections_period")
                let blocked = try await client.call(.post, "/v1/challenges/\(challenge)/winners/finalise", as: "publisher", fixture: people)
                #expect(blocked.status == .conflict)
                #expect(blocked.problemFields == ["objections"])
                #expect(
                    await ScoringHTTPTests.refusal(db, "UPDATE award_notices SET finalised_at = now() WHERE challenge_id = \(challenge)")
                        == "award_notices_objections_open")
                #expect(
                    try await client.call(
                        .post, "/v1/objections/\(objection)/resolve", as: "otherPublisher", fixture: people, json: ["resolution": "经核查不属实"]
                    ).status == .notFound)
                let resolved = try await client.call(
                    .post, "/v1/objections/\(objection)/resolve", as: "publisher", fixture: people,
                    json: ["resolution": "经核查，申报材料属实，异议不成立。"])
                #expect(resolved.status == .ok)
                #expect(resolved.object["resolvedAt"] as? String != nil)
                #expect(
                    try await client.call(
                        .post, "/v1/objections/\(objection)/resolve", as: "publisher", fixture: people, json: ["resolution": "再次处理"]
                    ).status == .conflict)
                #expect(
                    await ScoringHTTPTests.refusal(db, "UPDATE award_objections SET resolution = '改写处理意见' WHERE id = \(objection)")
                        == "award_objections_fixed")
                let final = try await client.call(.post, "/v1/challenges/\(challenge)/winners/finalise", as: "publisher", fixture: people)
                #expect(final.status == .ok)
                #expect(final.object["stage"] as? String == "final")
                let board = try await client.call(.get, "/v1/board/winners?programme=\(world.world.programme)")
                let items = board.object["items"] as? [[String: Any]] ?? []
                #expect(items.count == 1)
                #expect(items.first?["stage"] as? String == "final")
                #expect(items.first?["leadUnitName"] as? String == "兰州牵头企业0")
                #expect(items.first?["partnerUnitNames"] as? [String] == ["金昌参与单位2"])
                let text = String(decoding: try JSONSerialization.data(withJSONObject: board.object), as: UTF8.self)
                #expect(!text.contains("专家") && !text.contains("expert") && !text.contains("score"))
                #expect(try await client.call(.get, "/v1/board/winners?programme=abc").status == .badRequest)
            }
        }
    }
}

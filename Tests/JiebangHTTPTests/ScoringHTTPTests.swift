import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Postgres
import Testing

@Suite("Scoring: rubric, score sheets, deadline, hidden scores, closing and ranking")
struct ScoringHTTPTests {
    /// The constraint a statement was refused by, or nil when it went through.
    static func refusal(_ db: PostgresClient, _ query: PostgresQuery) async -> String? {
        do {
            _ = try await db.execute(query)
            return nil
        } catch let error as PostgresError {
            return error.constraint ?? "\(error)"
        } catch {
            return "\(error)"
        }
    }

    @Test("An expert saves a draft, submits it, and the submitted score is locked in Swift and in the database")
    func lockedScore() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 3)
            let seats = try await world.assignPanels(3)
            let seat = seats[0][0]
            let people = world.everyone
            try await people.application().test(.router) { client in
                var draft = ScoringWorld.sheet(80)
                draft["items"] = Array((draft["items"] as! [[String: Any]]).prefix(2))
                let saved = try await client.call(.put, "/v1/review-assignments/\(seat)/score", as: "expert0", fixture: people, json: draft)
                #expect(saved.status == .ok)
                #expect(saved.object["status"] as? String == "draft")
                let early = try await client.call(.post, "/v1/review-assignments/\(seat)/score/submit", as: "expert0", fixture: people)
                #expect(early.status == .unprocessableContent)
                #expect(early.problemFields == ["items"])
                _ = try await client.call(
                    .put, "/v1/review-assignments/\(seat)/score", as: "expert0", fixture: people, json: ScoringWorld.sheet(80))
                let submitted = try await client.call(.post, "/v1/review-assignments/\(seat)/score/submit", as: "expert0", fixture: people)
                #expect(submitted.status == .ok)
                #expect(submitted.object["status"] as? String == "submitted")
                #expect(submitted.object["weightedTotal"] as? String == "80.0000")
                let again = try await client.call(
                    .put, "/v1/review-assignments/\(seat)/score", as: "expert0", fixture: people, json: ScoringWorld.sheet(90))
                #expect(again.status == .conflict)
                let twice = try await client.call(.post, "/v1/review-assignments/\(seat)/score/submit", as: "expert0", fixture: people)
                #expect(twice.status == .conflict)
                #expect(
                    await Self.refusal(db, "UPDATE review_score_items SET score = 99 WHERE assignment_id = \(seat)")
                        == "review_scores_locked")
                #expect(await Self.refusal(db, "DELETE FROM review_score_items WHERE assignment_id = \(seat)") == "review_scores_locked")
                #expect(
                    await Self.refusal(db, "UPDATE review_scores SET status = 'draft', submitted_at = NULL WHERE assignment_id = \(seat)")
                        == "review_scores_locked")
                #expect(await Self.refusal(db, "DELETE FROM review_scores WHERE assignment_id = \(seat)") == "review_scores_locked")
                let score = try await db.query("SELECT sum(score) FROM review_score_items WHERE assignment_id = \(seat)").first!.decode(
                    Int.self)
                #expect(score == 320)
            }
        }
    }

    @Test("Scores are hidden: another expert or bureau gets 404, units 403, the publisher sees the ranking only once the round is closed")
    func hiddenScores() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 3)
            let seats = try await world.assignPanels(3)
            let people = world.everyone
            try await people.application().test(.router) { client in
                _ = try await client.call(
                    .put, "/v1/review-assignments/\(seats[0][0])/score", as: "expert0", fixture: people, json: ScoringWorld.sheet(70))
                #expect(
                    try await client.call(.get, "/v1/review-assignments/\(seats[0][0])/score", as: "expert1", fixture: people).status
                        == .notFound)
                #expect(
                    try await client.call(.get, "/v1/review-assignments/\(seats[0][0])/score", as: "expert0", fixture: people).status == .ok
                )
                for person in ["adminA", "memberB", "lanzhou", "publisher"] {
                    #expect(
                        try await client.call(.get, "/v1/review-assignments/\(seats[0][0])/score", as: person, fixture: people).status
                            == .forbidden)
                }
                let mine = try await client.call(.get, "/v1/expert/scores", as: "expert1", fixture: people)
                let items = mine.object["items"] as? [[String: Any]] ?? []
                #expect(items.map { $0["assignmentID"] as? Int } == [seats[0][1]])
                #expect(items.first?["status"] as? String == "none")
                let early = try await client.call(.get, "/v1/review-rounds/\(world.round)/ranking", as: "publisher", fixture: people)
                #expect(early.status == .conflict)
                #expect(
                    try await client.call(.get, "/v1/review-rounds/\(world.round)/ranking", as: "otherPublisher", fixture: people).status
                        == .notFound)
                #expect(
                    try await client.call(.get, "/v1/review-rounds/\(world.round)/ranking", as: "expert0", fixture: people).status
                        == .forbidden)
            }
        }
    }

    @Test("Out-of-range values, unknown criteria and bad JSON are 4xx naming the field; the database refuses them too")
    func badValues() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 3)
            let seat = try await world.assignPanels(3)[0][0]
            let people = world.everyone
            try await people.application().test(.router) { client in
                let body: [String: Any] = [
                    "items": [
                        ["criterion": "innovation", "score": 101], ["criterion": "charisma", "score": 50],
                        ["criterion": "funding", "score": -1],
                    ]
                ]
                let bad = try await client.call(.put, "/v1/review-assignments/\(seat)/score", as: "expert0", fixture: people, json: body)
                #expect(bad.status == .unprocessableContent)
                #expect(bad.problemFields == ["items[0].score", "items[1].criterion", "items[2].score"])
                let broken = try await client.call(
                    .put, "/v1/review-assignments/\(seat)/score", as: "expert0", fixture: people, raw: Data("{\"items\": [".utf8))
                #expect(broken.status == .badRequest)
                let typed = try await client.call(
                    .put, "/v1/review-assignments/\(seat)/score", as: "expert0", fixture: people,
                    json: ["items": [["criterion": "funding", "score": "高"]]])
                #expect(typed.status == .badRequest)
                #expect(typed.problemFields == ["items[0].score"])
                #expect(
                    try await client.call(
                        .put, "/v1/review-assignments/999999/score", as: "expert0", fixture: people, json: ScoringWorld.sheet(1)
                    ).status == .notFound)
                #expect(
                    try await client.call(.get, "/v1/review-assignments/abc/score", as: "expert0", fixture: people).status == .badRequest)
                _ = try await client.call(
                    .put, "/v1/review-assignments/\(seat)/score", as: "expert0", fixture: people, json: ScoringWorld.sheet(50))
                #expect(
                    await Self.refusal(
                        db, "UPDATE review_score_items SET score = 101 WHERE assignment_id = \(seat) AND criterion_key = 'funding'")
                        == "review_score_items_range")
                #expect(
                    await Self.refusal(
                        db, "INSERT INTO review_score_items (assignment_id, criterion_key, score) VALUES (\(seat), 'charisma', 5)")
                        == "review_score_items_criterion")
                try await db.execute("DELETE FROM review_score_items WHERE assignment_id = \(seat) AND criterion_key = 'funding'")
                #expect(
                    await Self.refusal(db, "UPDATE review_scores SET status = 'submitted' WHERE assignment_id = \(seat)")
                        == "review_scores_complete")
            }
        }
    }

    @Test("Alternates and recused seats cannot score, through the API or by SQL")
    func onlyActivePanelSeats() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 4)
            let ids = try await world.assign([
                (world.bids[0], 0, "panel"), (world.bids[0], 1, "panel"), (world.bids[0], 2, "panel"), (world.bids[0], 3, "alternate"),
            ])
            try await db.execute(
                "UPDATE review_assignments SET status = 'recused', recusal_reason = '曾与牵头单位合作', recused_at = now() WHERE id = \(ids[2])")
            let people = world.everyone
            try await people.application().test(.router) { client in
                #expect(
                    try await client.call(
                        .put, "/v1/review-assignments/\(ids[3])/score", as: "expert3", fixture: people, json: ScoringWorld.sheet(60)
                    ).status == .notFound)
                #expect(
                    try await client.call(
                        .put, "/v1/review-assignments/\(ids[2])/score", as: "expert2", fixture: people, json: ScoringWorld.sheet(60)
                    ).status == .notFound)
                let mine = try await client.call(.get, "/v1/expert/scores", as: "expert3", fixture: people)
                #expect((mine.object["items"] as? [Any])?.isEmpty == true)
                for seat in [ids[2], ids[3]] {
                    #expect(
                        await Self.refusal(
                            db,
                            "INSERT INTO review_scores (assignment_id, round_id, programme_id) SELECT id, round_id, \(world.world.programme) FROM review_assignments WHERE id = \(seat)"
                        ) == "review_scores_panel_seat")
                }
            }
        }
    }

    @Test(
        "After the scoring deadline nothing is saved; a round closes after its deadline, or before it only once every panel score is submitted"
    )
    func deadlineAndClosing() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 3)
            let seats = try await world.assignPanels(3)[0]
            let people = world.everyone
            try await people.application().test(.router) { client in
                for (index, seat) in seats.enumerated().prefix(2) {
                    _ = try await client.call(
                        .put, "/v1/review-assignments/\(seat)/score", as: "expert\(index)", fixture: people,
                        json: ScoringWorld.sheet(70 + index))
                    #expect(
                        try await client.call(.post, "/v1/review-assignments/\(seat)/score/submit", as: "expert\(index)", fixture: people)
                            .status == .ok)
                }
                _ = try await client.call(
                    .put, "/v1/review-assignments/\(seats[2])/score", as: "expert2", fixture: people, json: ScoringWorld.sheet(10))
                let early = try await client.call(.post, "/v1/review-rounds/\(world.round)/close", as: "publisher", fixture: people)
                #expect(early.status == .conflict)
                #expect(
                    await Self.refusal(db, "UPDATE review_rounds SET status = 'closed', closed_at = now() WHERE id = \(world.round)")
                        == "review_rounds_close_scored")
                try await world.setDeadline(Date() - 1)
                let late = try await client.call(
                    .put, "/v1/review-assignments/\(seats[2])/score", as: "expert2", fixture: people, json: ScoringWorld.sheet(20))
                #expect(late.status == .conflict)
                #expect(late.problemFields == ["scoringDeadline"])
                #expect(
                    try await client.call(.post, "/v1/review-assignments/\(seats[2])/score/submit", as: "expert2", fixture: people).status
                        == .conflict)
                #expect(
                    await Self.refusal(db, "UPDATE review_score_items SET score = 90 WHERE assignment_id = \(seats[2])")
                        == "review_scores_deadline")
                #expect(
                    try await client.call(.post, "/v1/review-rounds/\(world.round)/close", as: "otherPublisher", fixture: people).status
                        == .notFound)
                let closed = try await client.call(.post, "/v1/review-rounds/\(world.round)/close", as: "publisher", fixture: people)
                #expect(closed.status == .ok)
                // The draft does not count: the mean is of 70 and 71.
                let entry = ((closed.object["challenges"] as? [[String: Any]])?.first?["entries"] as? [[String: Any]])?.first
                let standing = entry?["standing"] as? [String: Any]
                #expect(standing?["scoreCount"] as? Int == 2)
                #expect(standing?["trimmedMean"] as? String == "70.5000")
                #expect(
                    try await client.call(.post, "/v1/review-rounds/\(world.round)/close", as: "publisher", fixture: people).status
                        == .conflict)
                try await world.setDeadline(Date() + 86_400)
                let closedRound = try await client.call(
                    .put, "/v1/review-assignments/\(seats[2])/score", as: "expert2", fixture: people, json: ScoringWorld.sheet(20))
                #expect(closedRound.status == .conflict)
                #expect(closedRound.problemFields == ["round"])
            }
        }
    }

    @Test("A round closes early once every panel score is submitted, and its ranking orders bids by trimmed mean")
    func ranking() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 2, experts: 5)
            let seats = try await world.assignPanels(5)
            let people = world.everyone
            // Bid 0: 95, 60, 62, 64, 10 → trimmed mean 62; bid 1: 70, 70, 70, 70, 70 → 70.
            let values = [[95, 60, 62, 64, 10], [70, 70, 70, 70, 70]]
            try await people.application().test(.router) { client in
                for (bid, row) in seats.enumerated() {
                    for (expert, seat) in row.enumerated() {
                        let saved = try await client.call(
                            .put, "/v1/review-assignments/\(seat)/score", as: "expert\(expert)", fixture: people,
                            json: ScoringWorld.sheet(values[bid][expert]))
                        #expect(saved.status == .ok)
                        #expect(
                            try await client.call(
                                .post, "/v1/review-assignments/\(seat)/score/submit", as: "expert\(expert)", fixture: people
                            ).status == .ok)
                    }
                }
                #expect(
                    try await client.call(.post, "/v1/review-rounds/\(world.round)/close", as: "publisher", fixture: people).status == .ok)
                let ranking = try await client.call(.get, "/v1/review-rounds/\(world.round)/ranking", as: "publisher", fixture: people)
                let entries = (ranking.object["challenges"] as? [[String: Any]])?.first?["entries"] as? [[String: Any]] ?? []
                #expect(entries.map { $0["bidID"] as? Int } == [world.bids[1], world.bids[0]])
                let first = entries.first?["standing"] as? [String: Any]
                let second = entries.last?["standing"] as? [String: Any]
                #expect(first?["trimmedMean"] as? String == "70.0000")
                #expect(second?["trimmedMean"] as? String == "62.0000")
                #expect(second?["countedTotals"] as? Int == 3)
                #expect(second?["median"] as? String == "62.0000")
                #expect(second?["totals"] as? [String] == ["95.0000", "64.0000", "62.0000", "60.0000", "10.0000"])
                // Now scores are shown to their experts as they were, and still not to units.
                #expect(
                    try await client.call(.get, "/v1/review-assignments/\(seats[0][0])/score", as: "expert0", fixture: people).status == .ok
                )
                #expect(
                    try await client.call(.get, "/v1/review-rounds/\(world.round)/ranking", as: "adminA", fixture: people).status
                        == .forbidden)
            }
        }
    }

    @Test("The publisher edits the rubric until the first score is submitted; then Swift and the database refuse, even racing")
    func rubricLock() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 3)
            let seats = try await world.assignPanels(3)[0]
            let people = world.everyone
            let programme = world.world.programme
            try await people.application().test(.router) { client in
                let initial = try await client.call(.get, "/v1/programmes/\(programme)/rubric", as: "expert0", fixture: people)
                let criteria = initial.object["criteria"] as? [[String: Any]] ?? []
                #expect(criteria.map { $0["key"] as? String } == ["rd_foundation", "innovation", "technical_plan", "funding"])
                #expect(criteria.map { $0["weight"] as? Int } == [30, 30, 25, 15])
                let bad = try await client.call(
                    .put, "/v1/programmes/\(programme)/rubric", as: "publisher", fixture: people,
                    json: ["criteria": [["key": "Bad Key", "name": "甲", "weight": 0, "minScore": 5, "maxScore": 5]]])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.problemFields == ["criteria[0].key", "criteria[0].name", "criteria[0].weight", "criteria[0].maxScore"])
                let rubric: [String: Any] = [
                    "criteria": [
                        ["key": "rd_foundation", "name": "研发基础条件", "weight": 40, "minScore": 0, "maxScore": 10],
                        ["key": "innovation", "name": "创新能力", "weight": 60, "minScore": 0, "maxScore": 10],
                    ]
                ]
                #expect(
                    try await client.call(.put, "/v1/programmes/\(programme)/rubric", as: "otherPublisher", fixture: people, json: rubric)
                        .status == .notFound)
                #expect(
                    try await client.call(.put, "/v1/programmes/\(programme)/rubric", as: "expert0", fixture: people, json: rubric).status
                        == .forbidden)
                #expect(
                    try await client.call(.put, "/v1/programmes/\(programme)/rubric", as: "publisher", fixture: people, json: rubric).status
                        == .ok)
                let sheet: [String: Any] = [
                    "items": [["criterion": "rd_foundation", "score": 8, "comment": "基础扎实"], ["criterion": "innovation", "score": 9]]
                ]
                _ = try await client.call(.put, "/v1/review-assignments/\(seats[0])/score", as: "expert0", fixture: people, json: sheet)
                let submitted = try await client.call(
                    .post, "/v1/review-assignments/\(seats[0])/score/submit", as: "expert0", fixture: people)
                #expect(submitted.object["weightedTotal"] as? String == "86.0000")
                let locked = try await client.call(
                    .put, "/v1/programmes/\(programme)/rubric", as: "publisher", fixture: people, json: rubric)
                #expect(locked.status == .conflict)
                let shown = try await client.call(.get, "/v1/programmes/\(programme)/rubric", as: "memberA", fixture: people)
                #expect(shown.object["locked"] as? Bool == true)
                #expect(
                    await Self.refusal(db, "UPDATE rubric_criteria SET weight = 1 WHERE programme_id = \(programme)")
                        == "rubric_criteria_locked")
                #expect(await Self.refusal(db, "DELETE FROM rubric_criteria WHERE programme_id = \(programme)") == "rubric_criteria_locked")
            }
        }
    }

    @Test("A rubric edit racing the first submission: never both succeed")
    func rubricRace() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 3)
            let seat = try await world.assignPanels(3)[0][0]
            let publisher = try await db.withConnection {
                try await AccountStore.authenticate(AccessToken(value: world.fixture.tokens["publisher"]!), on: $0)!
            }
            let expert = world.experts[0].actor
            _ = try await db.withTransaction {
                try await ScoreSheet.save(
                    assignmentID: seat,
                    ["rd_foundation", "innovation", "technical_plan", "funding"].map { .init(criterion: $0, score: 50) },
                    by: expert, on: $0)
            }
            let criteria = [
                Rubric.Criterion(key: "rd_foundation", name: "研发基础条件", weight: 50, minScore: 0, maxScore: 100),
                Rubric.Criterion(key: "innovation", name: "创新能力", weight: 50, minScore: 0, maxScore: 100),
                Rubric.Criterion(key: "technical_plan", name: "技术方案", weight: 50, minScore: 0, maxScore: 100),
                Rubric.Criterion(key: "funding", name: "资金支撑", weight: 50, minScore: 0, maxScore: 100),
            ]
            async let edit: Bool = {
                do {
                    _ = try await db.withTransaction {
                        try await Rubric.replace(programmeID: world.world.programme, criteria, by: publisher, on: $0)
                    }
                    return true
                } catch { return false }
            }()
            async let submit: Bool = {
                do {
                    _ = try await db.withTransaction { try await ScoreSheet.submit(assignmentID: seat, by: expert, on: $0) }
                    return true
                } catch { return false }
            }()
            let (edited, submitted) = await (edit, submit)
            #expect(submitted)
            let weights = try await db.query("SELECT sum(weight) FROM rubric_criteria WHERE programme_id = \(world.world.programme)").first!
                .decode(Int.self)
            // Either the edit came first (then the submission used the new rubric) or it was refused.
            #expect(edited ? weights == 200 : weights == 100)
        }
    }
}

extension ScoringHTTPTests {
    @Test("The last submission racing the early close: a round never closes with a panel score missing", arguments: 0..<3)
    func submitRacingClose(attempt: Int) async throws {
        try await TestDatabase.withFreshDatabase(maximumConnections: 10) { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 3)
            let seats = try await world.assignPanels(3)[0]
            let keys = ["rd_foundation", "innovation", "technical_plan", "funding"]
            for (expert, seat) in seats.enumerated() {
                try await db.withTransaction { tx in
                    let actor = world.experts[expert].actor
                    _ = try await ScoreSheet.save(
                        assignmentID: seat, keys.map { .init(criterion: $0, score: 60 + expert) }, by: actor, on: tx)
                    if expert < 2 { _ = try await ScoreSheet.submit(assignmentID: seat, by: actor, on: tx) }
                }
            }
            let publisher = try await AwardHTTPTests.publisher(world)
            let expert = world.experts[2].actor
            async let submitted: Bool = {
                do {
                    _ = try await db.withTransaction { try await ScoreSheet.submit(assignmentID: seats[2], by: expert, on: $0) }
                    return true
                } catch { return false }
            }()
            async let closed: Bool = {
                do {
                    _ = try await db.withTransaction { try await RoundRanking.close(roundID: world.round, by: publisher, on: $0) }
                    return true
                } catch { return false }
            }()
            let (submit, close) = await (submitted, closed)
            let missing = try await db.query(
                """
                SELECT count(*) FROM review_assignments a LEFT JOIN review_scores s ON s.assignment_id = a.id
                WHERE a.round_id = \(world.round) AND s.submitted_at IS NULL
                """
            ).first!.decode(Int.self)
            let status = try await db.query("SELECT status FROM review_rounds WHERE id = \(world.round)").first!.decode(String.self)
            #expect(status == (close ? "closed" : "assigned"))
            // Closing first is refused (a seat unscored, the deadline ahead); so the submission always stands.
            #expect(submit)
            #expect(missing == 0)
        }
    }
}

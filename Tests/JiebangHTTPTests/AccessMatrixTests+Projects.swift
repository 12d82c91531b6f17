import Foundation
import HTTPTypes
import Jiebang
import JiebangTesting
import Postgres

extension AccessMatrixTests {
    struct ProjectSetup: Sendable {
        /// A project of unit A (Lanzhou) with planned milestones to submit, one submitted to decide, and
        /// tranches paid on signing.
        var project = 0
        /// A racer of the same challenge (three winners) to stop.
        var racer = 0
        /// A bid with a final award and no project yet.
        var awardedBid = 0
        /// An executing project whose lead may request acceptance.
        var toAccept = 0
        /// An acceptance with the fixture's expert as its one drawn expert, awaiting that verdict and the finances.
        var acceptance = 0
        var programme = 0
        /// A PDF of `acceptance`.
        var evidence = 0
        /// An acceptance whose draw failed.
        var failedDraw = 0
    }

    /// A challenge with three winners, all bids of unit A in Lanzhou, their award final (written around
    /// the award triggers, as only a test may); two of them already projects.
    static func setUpProjects(_ fixture: APIFixture, publisher: Actor) async throws -> ProjectSetup {
        var setup = ProjectSetup()
        let input = try JSONDecoder.api.decode(
            ChallengeDrafting.Input.self, from: JSONSerialization.data(withJSONObject: Bodies.challenge())
        )
        var bids: [Int] = []
        try await fixture.db.withTransaction { tx in
            let now = Date()
            var programme = ProgrammeStore.Input(
                name: "2029年揭榜挂帅", year: 2029, applicationOpensAt: now,
                applicationClosesAt: now + 200 * 86_400)
            programme.oneLiveBidPerUnit = false
            let programmeID = try await ProgrammeStore.create(programme, by: publisher, on: tx).id
            setup.programme = programmeID
            let challenge = try await ChallengeDrafting.create(
                programmeID: programmeID, input, by: publisher, on: tx
            ).id
            _ = try await ChallengeDrafting.publish(id: challenge, ifRevision: nil, by: publisher, on: tx)
            for _ in 0..<6 {
                let bid = try await tx.query(
                    """
                    INSERT INTO bids (programme_id, challenge_id, lead_unit_id, region_code, total_investment_fen, requested_funding_fen)
                    VALUES (\(programmeID), \(challenge), \(fixture.unitA), '620100', 300000000, 100000000) RETURNING id
                    """
                ).first!.decode(Int.self)
                bids.append(bid)
            }
            try await tx.execute("SET LOCAL session_replication_role = replica")
            try await tx.execute("UPDATE challenges SET winners = 6 WHERE id = \(challenge)")
            try await tx.execute(
                "UPDATE bids SET status = 'formal_passed', version = 1, submitted_at = now() WHERE challenge_id = \(challenge)"
            )
            let round = try await tx.query(
                "INSERT INTO review_rounds (programme_id, name, panel_size, scoring_deadline) VALUES (\(programmeID), '项目轮次', 3, now()) RETURNING id"
            ).first!.decode(Int.self)
            try await tx.execute(
                "INSERT INTO awards (challenge_id, bid_id, round_id) SELECT challenge_id, id, \(round) FROM bids WHERE challenge_id = \(challenge)"
            )
            try await tx.execute(
                """
                INSERT INTO award_notices (challenge_id, round_id, first_day, last_day, objections_close_at, finalised_at)
                VALUES (\(challenge), \(round), current_date - 10, current_date - 3, now() - interval '2 days', now())
                """)
        }
        try await fixture.db.withTransaction { tx in
            func project(_ bid: Int) async throws -> Int {
                let milestones = (1...4).map {
                    Project.MilestoneInput(
                        title: "里程碑\($0)", dueOn: "\(2026 + $0)-12-31", deliverables: "阶段报告\($0)")
                }
                let tranches = (0..<4).map { _ in
                    Project.TrancheInput(milestone: nil, amountFen: 10_000_000)
                }
                let input = Project.Input(
                    bidID: bid, awardFen: 100_000_000,
                    indicators: [
                        .init(target: 54, targetText: "最大磁能积达到54 MGOe"),
                        .init(target: 21, targetText: "矫顽力达到21 kOe"),
                    ],
                    milestones: milestones, tranches: tranches + [.init(milestone: 4, amountFen: 60_000_000)])
                return try await ProjectStore.create(input, by: publisher, on: tx).id
            }
            setup.project = try await project(bids[0])
            setup.racer = try await project(bids[1])
            setup.awardedBid = bids[2]
            setup.toAccept = try await project(bids[3])
            try await tx.execute(
                "UPDATE milestones SET status = 'submitted' WHERE project_id = \(setup.project) AND position = 4"
            )
            try await tx.execute(
                """
                INSERT INTO experts (user_id, bureau_id, organisation, region_code)
                SELECT id, \(fixture.provinceBureau), '兰州大学', '620000' FROM users WHERE login = 'expert'
                ON CONFLICT (user_id) DO NOTHING
                """)
            let judged = try await project(bids[4])
            setup.acceptance = try await tx.query(
                """
                INSERT INTO acceptances (project_id, attempt, summary, spent_fen, seed, seed_sha256, requested_by)
                SELECT \(judged), 1, '中试线建成，各项指标均已达到任务书要求。', 90000000, 7, \(SHA256Hex.digest(of: Array("7".utf8))), id
                FROM users WHERE login = 'admina' RETURNING id
                """
            ).first!.decode(Int.self)
            try await tx.execute(
                """
                INSERT INTO acceptance_results (acceptance_id, position, result, result_text)
                VALUES (\(setup.acceptance), 1, 55, '最大磁能积55 MGOe'), (\(setup.acceptance), 2, 21, '矫顽力21 kOe')
                """)
            try await tx.execute(
                """
                INSERT INTO acceptance_panel (acceptance_id, expert_id, organisation_key)
                SELECT \(setup.acceptance), id, '' FROM users WHERE login = 'expert'
                """)
            try await tx.execute("UPDATE acceptances SET status = 'assigned', assigned_at = now() WHERE id = \(setup.acceptance)")
            let pdf = Array("%PDF-1.4 检测报告".utf8)
            setup.evidence = try await tx.query(
                """
                INSERT INTO acceptance_evidence (acceptance_id, filename, content_type, size_bytes, sha256, data, uploaded_by)
                SELECT \(setup.acceptance), '检测报告.pdf', 'application/pdf', \(pdf.count), \(SHA256Hex.digest(of: pdf)), \(Data(pdf)), id
                FROM users WHERE login = 'admina' RETURNING id
                """
            ).first!.decode(Int.self)
            let stalled = try await project(bids[5])
            setup.failedDraw = try await tx.query(
                """
                INSERT INTO acceptances (project_id, attempt, summary, spent_fen, seed, seed_sha256, requested_by)
                SELECT \(stalled), 1, '中试线建成，各项指标均已达到任务书要求。', 90000000, 7, \(SHA256Hex.digest(of: Array("7".utf8))), id
                FROM users WHERE login = 'admina' RETURNING id
                """
            ).first!.decode(Int.self)
            try await tx.execute("UPDATE acceptances SET status = 'draw_failed', failure = '专家不足' WHERE id = \(setup.failedDraw)")
            try await tx.execute("UPDATE projects SET status = 'acceptance_requested' WHERE id = \(stalled)")
            try await tx.execute("UPDATE projects SET status = 'acceptance_requested' WHERE id = \(judged)")
            try await tx.execute("UPDATE projects SET status = 'under_acceptance' WHERE id = \(judged)")
        }
        return setup
    }

    static func projectProbes(_ fixture: APIFixture, _ setup: ProjectSetup) -> [AccessProbe] {
        let db = fixture.db
        let project = setup.project
        @Sendable func json(_ object: Any) -> Data {
            try! JSONSerialization.data(withJSONObject: object)
        }
        let creation = json([
            "bidID": setup.awardedBid, "awardFen": 100_000_000,
            "indicators": [
                ["target": 55, "targetText": "最大磁能积达到55 MGOe"],
                ["targetText": "矫顽力达到20 kOe", "target": 20],
            ],
            "milestones": [["title": "中试线建成", "dueOn": "2027-12-31", "deliverables": "中试线验收报告"]],
            "tranches": [["amountFen": 30_000_000], ["milestone": 1, "amountFen": 70_000_000]],
        ])
        return [
            AccessProbe(operation: "POST /v1/projects", allowed: ["publisher"]) { _, _ in
                (.post, "/v1/projects", creation, [:])
            },
            AccessProbe(
                operation: "GET /v1/projects/{id}", allowed: ["publisher", "adminA", "memberA", "lanzhou"]
            ) { _, _ in
                (.get, "/v1/projects/\(project)", nil, [:])
            },
            AccessProbe(
                operation: "POST /v1/projects/{id}/milestones/{position}/submission",
                allowed: ["adminA", "memberA"]
            ) { _, _ in
                let position = try await db.query(
                    "SELECT coalesce(min(position), 1) FROM milestones WHERE project_id = \(project) AND status = 'planned'"
                ).first!.decode(Int.self)
                return (.post, "/v1/projects/\(project)/milestones/\(position)/submission", nil, [:])
            },
            AccessProbe(
                operation: "POST /v1/projects/{id}/milestones/{position}/decision", allowed: ["publisher"]
            ) { _, _ in
                (
                    .post, "/v1/projects/\(project)/milestones/4/decision",
                    json(["approve": true, "note": "材料齐全"]), [:]
                )
            },
            AccessProbe(
                operation: "POST /v1/projects/{id}/tranches/{trancheID}/payment", allowed: ["publisher"]
            ) { _, _ in
                let tranche = try await db.query(
                    "SELECT min(id) FROM tranches WHERE project_id = \(project) AND status = 'scheduled' AND milestone_id IS NULL"
                ).first!.decode(Int.self)
                return (.post, "/v1/projects/\(project)/tranches/\(tranche)/payment", nil, [:])
            },
            AccessProbe(operation: "POST /v1/projects/{id}/stop", allowed: ["publisher"]) { _, _ in
                (.post, "/v1/projects/\(setup.racer)/stop", json(["reason": "赛马制中期评估落后，停止支持"]), [:])
            },
            AccessProbe(operation: "POST /v1/projects/{id}/progress-reports", allowed: ["lanzhou"]) {
                _, _ in
                (
                    .post, "/v1/projects/\(project)/progress-reports",
                    json([
                        "year": Calendar.current.dateComponents(in: Shanghai.timeZone, from: Date()).year!,
                        "content": "本年度完成中试线建设，关键指标达到预期。",
                    ]), [:]
                )
            },
            AccessProbe(operation: "POST /v1/projects/{id}/changes", allowed: ["adminA"]) { _, _ in
                (
                    .post, "/v1/projects/\(project)/changes",
                    json(["kind": "change_partner", "reason": "合作单位调整研发分工"]), [:]
                )
            },
            AccessProbe(
                operation: "POST /v1/projects/{id}/changes/{changeID}/decision", allowed: ["publisher"]
            ) { person, _ in
                let change = try await db.query(
                    """
                    INSERT INTO project_changes (project_id, kind, reason, details, requested_by)
                    SELECT \(project), 'clarify_indicator', '指标口径需要说明', '', id FROM users WHERE login = 'admina'
                    ON CONFLICT DO NOTHING RETURNING id
                    """
                ).first?.decode(Int.self)
                let pending = try await db.query(
                    "SELECT id FROM project_changes WHERE project_id = \(project) AND kind = 'clarify_indicator' AND status = 'pending'"
                ).first!.decode(Int.self)
                return (
                    .post, "/v1/projects/\(project)/changes/\(change ?? pending)/decision",
                    json(["approve": person == "publisher"]), [:]
                )
            },
            AccessProbe(operation: "POST /v1/projects/{id}/acceptance", allowed: ["adminA"]) { _, _ in
                let request: [String: Any] = [
                    "summary": "中试线建成，各项指标均已达到任务书要求。", "spentFen": 95_000_000,
                    "results": [["result": 55, "resultText": "最大磁能积55 MGOe"], ["result": 21, "resultText": "矫顽力21 kOe"]],
                ]
                return (.post, "/v1/projects/\(setup.toAccept)/acceptance", json(request), [:])
            },
            AccessProbe(operation: "GET /v1/acceptances/{id}", allowed: ["publisher", "adminA", "memberA", "expert"]) { _, _ in
                (.get, "/v1/acceptances/\(setup.acceptance)", nil, [:])
            },
            AccessProbe(operation: "GET /v1/acceptances/{id}/evidence", allowed: ["publisher", "adminA", "memberA", "expert"]) { _, _ in
                (.get, "/v1/acceptances/\(setup.acceptance)/evidence", nil, [:])
            },
            AccessProbe(operation: "POST /v1/acceptances/{id}/evidence", allowed: ["adminA", "memberA"]) { _, _ in
                (
                    .post, "/v1/acceptances/\(setup.acceptance)/evidence?filename=a.pdf", Data("%PDF-1.4\n".utf8),
                    [.contentType: "application/pdf"]
                )
            },
            AccessProbe(
                operation: "GET /v1/acceptances/{id}/evidence/{evidenceID}", allowed: ["publisher", "adminA", "memberA", "expert"]
            ) { _, _ in
                (.get, "/v1/acceptances/\(setup.acceptance)/evidence/\(setup.evidence)", nil, [:])
            },
            AccessProbe(operation: "POST /v1/acceptances/{id}/draw", allowed: ["publisher"]) { _, _ in
                (.post, "/v1/acceptances/\(setup.failedDraw)/draw", nil, [:])
            },
            AccessProbe(operation: "GET /v1/expert/acceptances", allowed: ["expert", "otherExpert"]) { _, _ in
                (.get, "/v1/expert/acceptances", nil, [:])
            },
            AccessProbe(operation: "POST /v1/acceptances/{id}/verdict", allowed: ["expert"]) { _, _ in
                let verdict: [String: Any] = ["indicatorsMet": [true, true], "dataTrue": true, "targetsKept": true, "conclusion": "pass"]
                return (.post, "/v1/acceptances/\(setup.acceptance)/verdict", json(verdict), [:])
            },
            AccessProbe(operation: "POST /v1/acceptances/{id}/finances", allowed: ["publisher"]) { _, _ in
                (.post, "/v1/acceptances/\(setup.acceptance)/finances", json(["passed": true, "note": "支出与预算相符"]), [:])
            },
            AccessProbe(operation: "POST /v1/programmes/{id}/success-list", allowed: ["publisher"]) { _, _ in
                (.post, "/v1/programmes/\(setup.programme)/success-list", nil, [:])
            },
            AccessProbe(operation: "GET /v1/board/successes", allowed: Set(APIFixture.matrixPeople).union(["anonymous"])) { _, _ in
                (.get, "/v1/board/successes?programme=\(setup.programme)", nil, [:])
            },
        ]
    }
}

import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Acceptance: the request, the drawn experts, verdicts, finances, rectification and the success list")
struct AcceptanceTests {
    /// An executing project of bid 0 (lead `world.bids.leads[0]`) in a world with `experts` pool experts.
    static func project(_ db: PostgresClient, experts: Int = 8) async throws -> (ReviewWorld, Int) {
        let world = try await ProjectTests.awarded(db, bids: 1, experts: experts)
        let project = try await db.withTransaction {
            try await ProjectStore.create(ProjectTests.input(bid: world.bidIDs[0]), by: world.publisher, on: $0).id
        }
        return (world, project)
    }

    static let request = Acceptance.Input(
        summary: "中试线建成并稳定运行，最大磁能积与矫顽力均达到任务书指标。", spentFen: 95_000_000,
        results: [.init(result: 55, resultText: "最大磁能积55 MGOe"), .init(result: 21, resultText: "矫顽力21 kOe")])

    /// Requests acceptance and runs the draw job's handler, as the worker does.
    static func requestAndDraw(_ world: ReviewWorld, project: Int) async throws -> (Acceptance, [Int]) {
        let lead = world.bids.leads[0].actor
        let acceptance = try await world.db.withTransaction {
            try await AcceptanceStore.request(projectID: project, Self.request, by: lead, on: $0)
        }
        let result = try await world.db.withTransaction { try await AcceptanceDrawing.run(acceptanceID: acceptance.id, on: $0) }
        guard case .assigned(let experts) = result else {
            Issue.record("the draw did not assign: \(result)")
            return (acceptance, [])
        }
        return (acceptance, experts)
    }

    @Test("An acceptance's draw is recomputed from its inputs and seed; an edited seed, outcome, q or panel is found")
    func drawIsVerifiable() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (world, project) = try await Self.project(db, experts: 9)
            try await db.execute("UPDATE programmes SET review_panel_size = 3")
            let (acceptance, experts) = try await Self.requestAndDraw(world, project: project)
            #expect(experts.count == 3)
            @Sendable func check() async throws -> ReviewDrawCheck.Finding {
                try await db.withConnection { try await AcceptanceDrawCheck.verify(acceptanceID: acceptance.id, on: $0) }
            }
            #expect(try await check() == .reproduced(seats: 3, alternates: 0, applied: true))
            // Each edit is made as a superuser would, past the triggers, and undone after.
            let edits: [(PostgresQuery, PostgresQuery, ReviewDrawCheck.Finding)] = [
                (
                    "UPDATE acceptances SET seed = seed + 1 WHERE id = \(acceptance.id)",
                    "UPDATE acceptances SET seed = seed - 1 WHERE id = \(acceptance.id)", .seedDoesNotMatchDigest
                ),
                (
                    "UPDATE acceptances SET outcome = jsonb_set(outcome, '{assignments}', '[]') WHERE id = \(acceptance.id)",
                    "SELECT 1", .outcomeDiffers
                ),
                (
                    "UPDATE acceptances SET inputs = jsonb_set(inputs, '{q}', '\"1\"') WHERE id = \(acceptance.id)",
                    "SELECT 1", .inputsChanged(recorded: "q = 1", recomputed: "q = 1/2 is feasible for these inputs")
                ),
            ]
            for (edit, undo, finding) in edits {
                let saved = try await db.query("SELECT inputs::text, outcome::text FROM acceptances WHERE id = \(acceptance.id)").first!
                    .decode((String, String).self)
                try await db.withTransaction { tx in
                    try await tx.execute("SET LOCAL session_replication_role = replica")
                    try await tx.execute(edit)
                }
                #expect(try await check() == finding)
                try await db.withTransaction { tx in
                    try await tx.execute("SET LOCAL session_replication_role = replica")
                    try await tx.execute(undo)
                    try await tx.execute(
                        "UPDATE acceptances SET inputs = \(saved.0)::jsonb, outcome = \(saved.1)::jsonb WHERE id = \(acceptance.id)")
                }
                #expect(try await check() == .reproduced(seats: 3, alternates: 0, applied: true))
            }
            let outsider = try #require(world.experts.first { !experts.contains($0) })
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL session_replication_role = replica")
                try await tx.execute(
                    "UPDATE acceptance_panel SET expert_id = \(outsider) WHERE acceptance_id = \(acceptance.id) AND expert_id = \(experts[0])"
                )
            }
            #expect(try await check() == .appliedDiffers(missing: 1, extra: 1))
        }
    }

    static func expert(_ id: Int) -> Actor {
        Actor(userID: id, displayName: "专家\(id)", role: .expert, unitID: nil, bureauID: nil, regionCode: nil)
    }

    static let passing = Acceptance.Verdict(indicatorsMet: [true, true], dataTrue: true, targetsKept: true, conclusion: .pass)

    @Test(
        "The panel's conclusion is the median verdict, the more severe for an even panel; passing needs the finances; the second attempt is final"
    )
    func conclusions() {
        #expect(AcceptanceConclusion.ofPanel([.pass, .pass, .fail]) == .pass)
        #expect(AcceptanceConclusion.ofPanel([.pass, .fail, .fail]) == .fail)
        #expect(AcceptanceConclusion.ofPanel([.pass, .rectify, .pass, .fail]) == .rectify)
        #expect(AcceptanceConclusion.ofPanel([]) == nil)
        #expect(AcceptanceConclusion.overall(task: .pass, financialPassed: true, attempt: 1) == .pass)
        #expect(AcceptanceConclusion.overall(task: .pass, financialPassed: false, attempt: 1) == .rectify)
        #expect(AcceptanceConclusion.overall(task: .pass, financialPassed: false, attempt: 2) == .fail)
        #expect(AcceptanceConclusion.overall(task: .rectify, financialPassed: true, attempt: 2) == .fail)
        #expect(AcceptanceConclusion.overall(task: .fail, financialPassed: true, attempt: 1) == .fail)
        #expect(
            AcceptanceConclusion.reasonToFail(indicatorsMet: [true, false], dataTrue: true, targetsKept: true) == "indicator 2 is not met")
        #expect(AcceptanceConclusion.reasonToFail(indicatorsMet: [true], dataTrue: false, targetsKept: true) == "the data are found untrue")
        #expect(AcceptanceConclusion.reasonToFail(indicatorsMet: [true], dataTrue: true, targetsKept: false) != nil)
        #expect(AcceptanceConclusion.reasonToFail(indicatorsMet: [true], dataTrue: true, targetsKept: true) == nil)
    }

    @Test(
        "A request records its seed's SHA-256 and queues the draw; the draw seats k experts of the pool, never one of the consortium or tied to it, one per organisation"
    )
    func drawRespectsConflicts() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (world, project) = try await Self.project(db, experts: 9)
            try await db.execute("UPDATE programmes SET review_panel_size = 3")
            // Expert 0 works for the lead; expert 1 declared a tie to the partner; experts 2 to 8 share two organisations.
            try await db.execute("UPDATE experts SET unit_id = \(world.bids.leads[0].unitID) WHERE user_id = \(world.experts[0])")
            try await db.execute(
                "INSERT INTO expert_ties (expert_id, unit_id, reason) VALUES (\(world.experts[1]), \(world.bids.partners[0].unitID), '曾任顾问')"
            )
            try await db.execute("UPDATE experts SET organisation = '甘肃省科学院' WHERE user_id = ANY(\(Array(world.experts[2...4])))")
            let (acceptance, experts) = try await Self.requestAndDraw(world, project: project)
            #expect(acceptance.seedSha256.count == 64)
            #expect(acceptance.attempt == 1)
            #expect(try await db.query("SELECT count(*) FROM jobs WHERE kind = 'acceptance.assign'").first!.decode(Int.self) == 1)
            #expect(experts.count == 3)
            #expect(!experts.contains(world.experts[0]) && !experts.contains(world.experts[1]))
            #expect(experts.filter { Array(world.experts[2...4]).contains($0) }.count <= 1)
            let again = try await db.withTransaction { try await AcceptanceDrawing.run(acceptanceID: acceptance.id, on: $0) }
            #expect(again == .alreadyRun)
            #expect(acceptance.seed == nil)
            let revealed = try await db.withConnection {
                try await AcceptanceStore.acceptance(id: acceptance.id, by: world.publisher, on: $0)
            }
            let seed = try #require(revealed.seed)
            #expect(SHA256Hex.digest(of: Array(seed.utf8)) == acceptance.seedSha256)
            let status = try await db.query("SELECT status FROM projects WHERE id = \(project)").first!.decode(String.self)
            #expect(status == "under_acceptance")
            let told = try await db.query("SELECT count(*) FROM notifications WHERE occasion = 'acceptance.assigned'").first!.decode(
                Int.self)
            #expect(told == 3)
            // The database refuses a conflicted acceptance expert, whatever writes the row.
            let forged = await ReviewRoundTests.violation {
                try await db.withTransaction { tx in
                    try await tx.execute("SET LOCAL session_replication_role = replica")
                    try await tx.execute("UPDATE acceptances SET status = 'requested' WHERE id = \(acceptance.id)")
                    try await tx.execute("DELETE FROM acceptance_panel WHERE acceptance_id = \(acceptance.id)")
                    try await tx.execute("SET LOCAL session_replication_role = origin")
                    try await tx.execute(
                        "INSERT INTO acceptance_panel (acceptance_id, expert_id, organisation_key) VALUES (\(acceptance.id), \(world.experts[0]), '')"
                    )
                }
            }
            #expect(forged == "acceptance_panel_conflict")
        }
    }

    @Test(
        "Too few eligible experts: the draw is recorded as failed with a message, and nothing is seated; the publisher has it drawn again once the pool grew"
    )
    func tooFewExperts() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (world, project) = try await Self.project(db, experts: 2)
            let lead = world.bids.leads[0].actor
            let acceptance = try await db.withTransaction {
                try await AcceptanceStore.request(projectID: project, Self.request, by: lead, on: $0)
            }
            let result = try await db.withTransaction { try await AcceptanceDrawing.run(acceptanceID: acceptance.id, on: $0) }
            guard case .failed(let message) = result else {
                Issue.record("expected a failed draw, got \(result)")
                return
            }
            #expect(message.contains("too few experts"))
            #expect(try await db.query("SELECT count(*) FROM acceptance_panel").first!.decode(Int.self) == 0)
            let read = try await db.withConnection { try await AcceptanceStore.acceptance(id: acceptance.id, by: world.publisher, on: $0) }
            #expect(read.status == "draw_failed")
            // More experts join the pool; the publisher has the panel drawn again.
            try await db.withTransaction { tx in
                for index in 0..<5 {
                    let user = try await AccountStore.createUser(
                        .init(login: "late\(index)", displayName: "增补专家\(index)", role: .expert), passwordHash: nil, by: "test", on: tx)
                    try await tx.execute(
                        """
                        INSERT INTO experts (user_id, bureau_id, organisation, region_code)
                        VALUES (\(user), \(world.bids.fixture.provinceBureau), \("增补研究院\(index)"), '620500')
                        """)
                }
            }
            let again = try await db.withTransaction {
                try await AcceptanceStore.redraw(acceptanceID: acceptance.id, by: world.publisher, on: $0)
            }
            #expect(again.status == "requested")
            #expect(try await db.query("SELECT count(*) FROM jobs WHERE kind = 'acceptance.assign'").first!.decode(Int.self) == 2)
            let redrawn = try await db.withTransaction { try await AcceptanceDrawing.run(acceptanceID: acceptance.id, on: $0) }
            guard case .assigned(let experts) = redrawn else {
                Issue.record("the redraw did not assign: \(redrawn)")
                return
            }
            #expect(experts.count == 5)
            await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction {
                    try await AcceptanceStore.redraw(acceptanceID: acceptance.id, by: world.publisher, on: $0)
                }
            }
        }
    }

    @Test(
        "Verdicts and finances conclude the acceptance: a pass accepts the project and records its result; a verdict that must fail is refused otherwise"
    )
    func passAndSuccessList() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (world, project) = try await Self.project(db)
            try await db.execute("UPDATE programmes SET review_panel_size = 3")
            let (acceptance, experts) = try await Self.requestAndDraw(world, project: project)
            try #require(experts.count == 3)
            await #expect(throws: DomainError.invalid("conclusion", "must be fail: indicator 2 is not met")) {
                _ = try await db.withTransaction {
                    try await AcceptanceStore.giveVerdict(
                        acceptanceID: acceptance.id,
                        .init(indicatorsMet: [true, false], dataTrue: true, targetsKept: true, conclusion: .pass),
                        by: Self.expert(experts[0]),
                        on: $0)
                }
            }
            let raw = await ReviewRoundTests.violation {
                try await db.execute(
                    """
                    INSERT INTO acceptance_verdicts (acceptance_id, expert_id, indicators_met, data_true, targets_kept, conclusion)
                    VALUES (\(acceptance.id), \(experts[0]), '{true,true}', false, true, 'pass')
                    """)
            }
            #expect(raw == "acceptance_verdicts_must_fail")
            // An expert not on the panel is told the acceptance does not exist.
            await #expect(throws: DomainError.notFound("there is no acceptance \(acceptance.id)")) {
                _ = try await db.withTransaction {
                    try await AcceptanceStore.giveVerdict(
                        acceptanceID: acceptance.id, Self.passing, by: Self.expert(world.publisher.userID), on: $0)
                }
            }
            for (index, expert) in experts.enumerated() {
                let verdict =
                    index == 0
                    ? Acceptance.Verdict(indicatorsMet: [true, false], dataTrue: true, targetsKept: true, conclusion: .fail) : Self.passing
                _ = try await db.withTransaction {
                    try await AcceptanceStore.giveVerdict(acceptanceID: acceptance.id, verdict, by: Self.expert(expert), on: $0)
                }
            }
            await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction {
                    try await AcceptanceStore.giveVerdict(acceptanceID: acceptance.id, Self.passing, by: Self.expert(experts[1]), on: $0)
                }
            }
            let awaitingFinances = try await db.withConnection {
                try await AcceptanceStore.acceptance(id: acceptance.id, by: world.publisher, on: $0)
            }
            #expect(awaitingFinances.status == "assigned")
            #expect(awaitingFinances.verdicts == 3)
            let concluded = try await db.withTransaction {
                try await AcceptanceStore.judgeFinances(
                    acceptanceID: acceptance.id, passed: true, note: "支出与预算相符", by: world.publisher, on: $0)
            }
            #expect(concluded.status == "concluded")
            #expect(concluded.taskConclusion == .pass)
            #expect(concluded.conclusion == .pass)
            #expect(concluded.panel?.count == 3)
            let status = try await db.query("SELECT status FROM projects WHERE id = \(project)").first!.decode(String.self)
            #expect(status == "accepted")
            #expect(try await db.query("SELECT count(*) FROM achievements WHERE project_id = \(project)").first!.decode(Int.self) == 1)
            #expect(try await db.withConnection { try await SuccessListStore.published(programmeID: nil, on: $0) }.isEmpty)
            let batch = try await db.withTransaction {
                try await SuccessListStore.publish(programmeID: world.bids.programme, by: world.publisher, on: $0)
            }
            #expect(batch.entries.map(\.projectID) == [project])
            #expect(batch.entries.first?.leadUnitName == "兰州牵头企业0")
            await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction {
                    try await SuccessListStore.publish(programmeID: world.bids.programme, by: world.publisher, on: $0)
                }
            }
            let public_ = try await db.withConnection { try await SuccessListStore.published(programmeID: world.bids.programme, on: $0) }
            #expect(public_.count == 1)
        }
    }

    @Test(
        "整改后通过 gives one more attempt within three months; after them a resubmission is refused in Swift and by the database, and the expiry scan fails the project"
    )
    func rectification() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (world, project) = try await Self.project(db)
            try await db.execute("UPDATE programmes SET review_panel_size = 3")
            let (acceptance, experts) = try await Self.requestAndDraw(world, project: project)
            for expert in experts {
                _ = try await db.withTransaction {
                    try await AcceptanceStore.giveVerdict(acceptanceID: acceptance.id, Self.passing, by: Self.expert(expert), on: $0)
                }
            }
            let concluded = try await db.withTransaction {
                try await AcceptanceStore.judgeFinances(
                    acceptanceID: acceptance.id, passed: false, note: "部分支出无凭证", by: world.publisher, on: $0)
            }
            #expect(concluded.conclusion == .rectify)
            let rectifyBy = try #require(concluded.rectifyBy)
            #expect(rectifyBy > Date() + 80 * 86_400 && rectifyBy < Date() + 95 * 86_400)
            #expect(try await db.query("SELECT status FROM projects WHERE id = \(project)").first!.decode(String.self) == "rectifying")
            // Three months later.
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL session_replication_role = replica")
                try await tx.execute("UPDATE projects SET rectify_by = now() - interval '1 day' WHERE id = \(project)")
            }
            let lead = world.bids.leads[0].actor
            await #expect(throws: DomainError.conflict(field: nil, message: "the three months to rectify have passed")) {
                _ = try await db.withTransaction { try await AcceptanceStore.request(projectID: project, Self.request, by: lead, on: $0) }
            }
            let raw = await ReviewRoundTests.violation {
                try await db.execute(
                    """
                    INSERT INTO acceptances (project_id, attempt, summary, spent_fen, seed, seed_sha256, requested_by)
                    VALUES (\(project), 2, '整改完成后再次申请验收。', 1, 1, \(String(repeating: "a", count: 64)), \(lead.userID))
                    """)
            }
            #expect(raw == "acceptances_rectification_window")
            let expired = try await db.withTransaction { try await AcceptanceStore.expireRectifications(at: Date(), on: $0) }
            #expect(expired == 1)
            #expect(try await db.query("SELECT status FROM projects WHERE id = \(project)").first!.decode(String.self) == "failed")
            #expect(try await db.withTransaction { try await AcceptanceStore.expireRectifications(at: Date(), on: $0) } == 0)
        }
    }

    @Test("Within the three months the resubmission is a second attempt with a new panel; its 整改后通过 is a failure")
    func secondAttemptIsFinal() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (world, project) = try await Self.project(db)
            try await db.execute("UPDATE programmes SET review_panel_size = 3")
            let (first, experts) = try await Self.requestAndDraw(world, project: project)
            let rectify = Acceptance.Verdict(indicatorsMet: [true, true], dataTrue: true, targetsKept: true, conclusion: .rectify)
            for expert in experts {
                _ = try await db.withTransaction {
                    try await AcceptanceStore.giveVerdict(acceptanceID: first.id, rectify, by: Self.expert(expert), on: $0)
                }
            }
            _ = try await db.withTransaction {
                try await AcceptanceStore.judgeFinances(acceptanceID: first.id, passed: true, note: "", by: world.publisher, on: $0)
            }
            let (second, again) = try await Self.requestAndDraw(world, project: project)
            #expect(second.attempt == 2)
            #expect(again.count == 3)
            for expert in again {
                _ = try await db.withTransaction {
                    try await AcceptanceStore.giveVerdict(acceptanceID: second.id, rectify, by: Self.expert(expert), on: $0)
                }
            }
            let concluded = try await db.withTransaction {
                try await AcceptanceStore.judgeFinances(acceptanceID: second.id, passed: true, note: "", by: world.publisher, on: $0)
            }
            #expect(concluded.conclusion == .fail)
            #expect(try await db.query("SELECT status FROM projects WHERE id = \(project)").first!.decode(String.self) == "failed")
            let third = await ReviewRoundTests.violation {
                _ = try await db.withTransaction {
                    try await AcceptanceStore.request(projectID: project, Self.request, by: world.bids.leads[0].actor, on: $0)
                }
            }
            #expect(third == "\(DomainError.conflict(field: nil, message: "a failed project cannot request acceptance"))")
        }
    }

    @Test("Projects past their completion date without a request are flagged and their lead told once, however many scans run at once")
    func overdueScan() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (_, project) = try await Self.project(db)
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL session_replication_role = replica")
                try await tx.execute(
                    "UPDATE projects SET completion_deadline = current_date - 1, original_completion_deadline = current_date - 1 WHERE id = \(project)"
                )
            }
            let outcomes = try await withThrowingTaskGroup(of: ReminderScan.Outcome.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await db.withTransaction { try await ReminderScan.acceptanceOverdue.run(at: Date(), on: $0) } }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.map(\.created).reduce(0, +) == 1)
            let told = try await db.query("SELECT count(*) FROM notifications WHERE occasion = 'acceptance.overdue'").first!.decode(
                Int.self)
            #expect(told == 1)
            let flagged = try await db.query("SELECT acceptance_overdue_at IS NOT NULL FROM projects WHERE id = \(project)").first!.decode(
                Bool.self)
            #expect(flagged)
        }
    }

    @Test(
        "后补助: a post-subsidy project has no tranches until it passes; then one tranche of the programme's share of the verified spend, and SQL cannot schedule more"
    )
    func postSubsidy() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ProjectTests.awarded(db, bids: 1, experts: 8)
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL session_replication_role = replica")
                try await tx.execute(
                    "UPDATE programmes SET funding_mode = 'post_subsidy', funding_ratio_cap_bp = 3000, funding_absolute_cap_fen = 300000000, review_panel_size = 3"
                )
            }
            await #expect(
                throws: DomainError.invalid(
                    "tranches", "must be empty: the programme pays 后补助, a share of the verified spend after acceptance")
            ) {
                _ = try await db.withTransaction {
                    try await ProjectStore.create(ProjectTests.input(bid: world.bidIDs[0]), by: world.publisher, on: $0)
                }
            }
            var input = ProjectTests.input(bid: world.bidIDs[0])
            input.tranches = []
            let project = try await db.withTransaction { try await ProjectStore.create(input, by: world.publisher, on: $0).id }
            let early = await ReviewRoundTests.violation {
                try await db.execute("INSERT INTO tranches (project_id, amount_fen, post_subsidy) VALUES (\(project), 1000, true)")
            }
            #expect(early == "tranches_post_subsidy_share")
            let upfront = await ReviewRoundTests.violation {
                try await db.execute("INSERT INTO tranches (project_id, amount_fen) VALUES (\(project), 1000)")
            }
            #expect(upfront == "tranches_post_subsidy")
            let (acceptance, experts) = try await Self.requestAndDraw(world, project: project)
            for expert in experts {
                _ = try await db.withTransaction {
                    try await AcceptanceStore.giveVerdict(acceptanceID: acceptance.id, Self.passing, by: Self.expert(expert), on: $0)
                }
            }
            _ = try await db.withTransaction {
                try await AcceptanceStore.judgeFinances(
                    acceptanceID: acceptance.id, passed: true, note: "研发支出经审计核实", by: world.publisher, on: $0)
            }
            let accepted = try await db.withConnection { try await ProjectStore.read(id: project, on: $0) }
            #expect(accepted.status == .accepted)
            // 30% of the 95,000,000 fen spent, under the 3,000,000 CNY cap and the award.
            #expect(accepted.tranches.map(\.amountFen) == [28_500_000])
            #expect(accepted.tranches.map(\.postSubsidy) == [true])
            let more = await ReviewRoundTests.violation {
                try await db.execute("INSERT INTO tranches (project_id, amount_fen, post_subsidy) VALUES (\(project), 1, true)")
            }
            #expect(more == "tranches_post_subsidy_share")
            let paid = try await db.withTransaction {
                try await ProjectStore.payTranche(projectID: project, trancheID: accepted.tranches[0].id, by: world.publisher, on: $0)
            }
            #expect(paid.paidFen == 28_500_000)
        }
    }
}

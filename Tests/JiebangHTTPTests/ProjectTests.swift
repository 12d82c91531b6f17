import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Projects: task books, tranches, progress reports and changes")
struct ProjectTests {
    /// A review world whose bids all hold a final award (written around the award triggers, as only a test may).
    static func awarded(_ db: PostgresClient, bids: Int = 2, winners: Int = 1, experts: Int = 0) async throws -> ReviewWorld {
        let world = try await ReviewWorld.make(db, bids: bids, experts: experts)
        let round = try await world.round()
        try await db.withTransaction { tx in
            try await tx.execute("SET LOCAL session_replication_role = replica")
            try await tx.execute("UPDATE challenges SET winners = \(winners)")
            for bid in world.bidIDs {
                try await tx.execute(
                    "INSERT INTO awards (challenge_id, bid_id, round_id) SELECT challenge_id, id, \(round) FROM bids WHERE id = \(bid)")
            }
            try await tx.execute(
                """
                INSERT INTO award_notices (challenge_id, round_id, first_day, last_day, objections_close_at, finalised_at)
                SELECT DISTINCT challenge_id, \(round), current_date - 10, current_date - 3, now() - interval '2 days', now()
                FROM awards
                """)
        }
        return world
    }

    /// Two milestones; 30% on signing, 70% on the second milestone.
    static func input(bid: Int, award: Int = 100_000_000, target: Decimal? = 54) -> Project.Input {
        Project.Input(
            bidID: bid, awardFen: award,
            indicators: [.init(target: target, targetText: "最大磁能积达到54 MGOe"), .init(target: 21, targetText: "矫顽力达到21 kOe")],
            milestones: [
                .init(title: "中试线建成", dueOn: "2027-12-31", deliverables: "中试线验收报告"),
                .init(title: "工程化应用", dueOn: "2028-12-31", deliverables: "用户应用证明"),
            ],
            tranches: [.init(milestone: nil, amountFen: award * 3 / 10), .init(milestone: 2, amountFen: award - award * 3 / 10)])
    }

    static func violation(_ body: () async throws -> Void) async -> String? {
        await ReviewRoundTests.violation(body)
    }

    @Test("The state machine allows exactly the documented transitions, in Swift and in SQL")
    func stateMachine() async throws {
        let allowed: Set<String> = [
            "executing requestAcceptance acceptance_requested", "executing stop stopped",
            "acceptance_requested assignExperts under_acceptance", "under_acceptance pass accepted",
            "under_acceptance passAfterRectification rectifying", "under_acceptance fail failed",
            "rectifying resubmit under_acceptance", "rectifying fail failed",
        ]
        var found: Set<String> = []
        for status in ProjectStatus.allCases {
            for action in ProjectStatus.Action.allCases {
                if let next = try? status.applying(action) { found.insert("\(status.rawValue) \(action.rawValue) \(next.rawValue)") }
            }
        }
        #expect(found == allowed)
        let pairs = Set(allowed.map { $0.split(separator: " ").map(String.init) }.map { "\($0[0]) \($0[2])" })
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.awarded(db, bids: 1)
            let id = try await db.withTransaction { try await ProjectStore.create(Self.input(bid: world.bidIDs[0]), by: world.publisher, on: $0).id }
            for from in ProjectStatus.allCases {
                for to in ProjectStatus.allCases where to != from {
                    let outcome = await Self.violation {
                        try await db.withTransaction { tx in
                            try await tx.execute("SET LOCAL session_replication_role = replica")
                            try await tx.execute(
                                "UPDATE projects SET status = \(from.rawValue), stopped_reason = \(from == .stopped ? "停止" : nil) WHERE id = \(id)")
                            try await tx.execute("SET LOCAL session_replication_role = origin")
                            try await tx.execute(
                                "UPDATE projects SET status = \(to.rawValue), stopped_reason = \(to == .stopped ? "停止" : nil) WHERE id = \(id)")
                            throw CancellationError()
                        }
                    }
                    // Accepted and rectifying need a concluded acceptance as well (definitions/14_acceptance.sql).
                    let expected =
                        !pairs.contains("\(from.rawValue) \(to.rawValue)") ? "projects_transition"
                        : to == .accepted ? "projects_accepted_by_acceptance"
                        : to == .rectifying ? "projects_rectifying_by_acceptance" : "\(CancellationError())"
                    #expect(outcome == expected, "\(from) → \(to)")
                }
            }
        }
    }

    @Test("Indicator bounds read the same in Swift and in SQL")
    func indicatorBounds() async throws {
        let texts = [
            "最大磁能积不低于52 MGOe", "成本不超过 5.5万元", "能耗≤3.2 kWh", "产能>=1000吨", "实现工程化应用", "良率达到99.5%",
            "不高于5且不低于3", "至少3项专利", "响应时间至多 20 ms", "温度低于30度",
        ]
        try await TestDatabase.withFreshDatabase { db in
            for text in texts {
                let swift = IndicatorThreshold(parsing: text)
                let sql = try await db.query("SELECT indicator_direction(\(text)), indicator_threshold(\(text))::text").first!
                    .decode((String, String?).self)
                #expect(swift.direction == sql.0, "\(text)")
                #expect(swift.threshold == sql.1.flatMap { Decimal(string: $0) }, "\(text)")
            }
        }
        #expect(IndicatorThreshold(parsing: "最大磁能积不低于52 MGOe") == .init(direction: "at_least", threshold: 52))
        #expect(IndicatorThreshold(parsing: "实现工程化应用").direction == "qualitative")
    }

    @Test("A final award becomes a project; a target that lowers an indicator is refused, in Swift and by the database")
    func taskBookNeverLowersAnIndicator() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.awarded(db)
            await #expect(throws: DomainError.invalid("indicators[0].target", "lowers the challenge's indicator \"最大磁能积不低于52 MGOe\"")) {
                try await db.withTransaction { try await ProjectStore.create(Self.input(bid: world.bidIDs[0], target: 50), by: world.publisher, on: $0) }
            }
            let project = try await db.withTransaction {
                try await ProjectStore.create(Self.input(bid: world.bidIDs[0]), by: world.publisher, on: $0)
            }
            #expect(project.status == .executing)
            #expect(project.indicators.map(\.challengeThreshold) == [52, 20])
            #expect(project.completionDeadline == "2029-12-31")
            let lowered = await Self.violation {
                try await db.execute("UPDATE project_indicators SET target = 51 WHERE project_id = \(project.id) AND position = 1")
            }
            #expect(lowered == "project_indicators_not_lowered")
            let forged = await Self.violation {
                try await db.execute(
                    "UPDATE project_indicators SET target = 1, challenge_threshold = 0, direction = 'qualitative' WHERE project_id = \(project.id) AND position = 1")
            }
            #expect(forged == "project_indicators_not_lowered")
            let twice = await Self.violation {
                _ = try await db.withTransaction { try await ProjectStore.create(Self.input(bid: world.bidIDs[0]), by: world.publisher, on: $0) }
            }
            #expect(twice == "\(DomainError.conflict(field: "bidID", message: "bid \(world.bidIDs[0]) already has a project"))")
            let withoutAward = await Self.violation {
                try await db.withTransaction { tx in
                    try await tx.execute("SET LOCAL session_replication_role = replica")
                    try await tx.execute("UPDATE award_notices SET finalised_at = NULL")
                }
                _ = try await db.withTransaction { try await ProjectStore.create(Self.input(bid: world.bidIDs[1]), by: world.publisher, on: $0) }
            }
            #expect(withoutAward == "\(DomainError.conflict(field: "bidID", message: "bid \(world.bidIDs[1]) has no final award"))")
            let raw = await Self.violation {
                try await db.execute(
                    """
                    INSERT INTO projects (bid_id, challenge_id, programme_id, lead_unit_id, region_code, award_fen, completion_deadline, original_completion_deadline)
                    SELECT id, challenge_id, programme_id, lead_unit_id, region_code, 1, '2029-12-31', '2029-12-31' FROM bids WHERE id = \(world.bidIDs[1])
                    """)
            }
            #expect(raw == "projects_final_award")
        }
    }

    @Test("Tranches never pay past the award, a milestone's tranche waits for its approval, and concurrent tranches queue")
    func tranchesStayWithinTheAward() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.awarded(db, bids: 1)
            let project = try await db.withTransaction {
                try await ProjectStore.create(Self.input(bid: world.bidIDs[0]), by: world.publisher, on: $0)
            }
            let signing = project.tranches[0].id
            let onMilestone = project.tranches[1].id
            let paid = try await db.withTransaction { try await ProjectStore.payTranche(projectID: project.id, trancheID: signing, by: world.publisher, on: $0) }
            #expect(paid.paidFen == 30_000_000)
            await #expect(throws: DomainError.self) {
                try await db.withTransaction { try await ProjectStore.payTranche(projectID: project.id, trancheID: onMilestone, by: world.publisher, on: $0) }
            }
            let early = await Self.violation { try await db.execute("UPDATE tranches SET status = 'paid', paid_at = now() WHERE id = \(onMilestone)") }
            #expect(early == "tranches_paid_after_milestone")
            let over = await Self.violation {
                try await db.execute("INSERT INTO tranches (project_id, amount_fen, status, paid_at) VALUES (\(project.id), 1, 'paid', now())")
            }
            #expect(over == "tranches_within_award")
            let repaid = await Self.violation { try await db.execute("UPDATE tranches SET amount_fen = 1 WHERE id = \(signing)") }
            #expect(repaid == "tranches_final")
            // Free 10 fen, then two writers race for them: the project's row makes them queue, and one wins.
            try await db.execute("UPDATE tranches SET amount_fen = amount_fen - 10 WHERE id = \(onMilestone)")
            let outcomes = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        await Self.violation {
                            try await db.withTransaction { tx in
                                try await tx.execute("INSERT INTO tranches (project_id, amount_fen) VALUES (\(project.id), 10)")
                                try await tx.execute("SELECT pg_sleep(0.2)")
                            }
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.contains("tranches_within_award"))
            let lead = world.bids.leads[0].actor
            _ = try await db.withTransaction { try await ProjectStore.submitMilestone(projectID: project.id, position: 2, by: lead, on: $0) }
            _ = try await db.withTransaction {
                try await ProjectStore.decideMilestone(projectID: project.id, position: 2, approve: true, by: world.publisher, on: $0)
            }
            let done = try await db.withTransaction { try await ProjectStore.payTranche(projectID: project.id, trancheID: onMilestone, by: world.publisher, on: $0) }
            #expect(done.paidFen == 99_999_990)
        }
    }

    @Test("A stopped racer's scheduled tranches are cancelled and nothing more is paid; only a challenge with several winners races")
    func stoppingARacer() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.awarded(db, bids: 2, winners: 2)
            let project = try await db.withTransaction { try await ProjectStore.create(Self.input(bid: world.bidIDs[0]), by: world.publisher, on: $0) }
            let stopped = try await db.withTransaction {
                try await ProjectStore.stop(projectID: project.id, reason: "中期评估未达到里程碑要求", by: world.publisher, on: $0)
            }
            #expect(stopped.status == .stopped)
            #expect(stopped.tranches.map(\.status) == ["cancelled", "cancelled"])
            let revived = await Self.violation { try await db.execute("UPDATE tranches SET status = 'scheduled' WHERE project_id = \(project.id)") }
            #expect(revived == "tranches_final")
            let added = await Self.violation { try await db.execute("INSERT INTO tranches (project_id, amount_fen) VALUES (\(project.id), 5)") }
            #expect(added == "tranches_project_live")
        }
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.awarded(db, bids: 1, winners: 1)
            let project = try await db.withTransaction { try await ProjectStore.create(Self.input(bid: world.bidIDs[0]), by: world.publisher, on: $0) }
            await #expect(throws: DomainError.self) {
                try await db.withTransaction { try await ProjectStore.stop(projectID: project.id, reason: "停止", by: world.publisher, on: $0) }
            }
        }
    }

    @Test("The city's recommender files one progress report a year, late after 10 December in Asia/Shanghai; nobody else files")
    func progressReports() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.awarded(db, bids: 1)
            let project = try await db.withTransaction { try await ProjectStore.create(Self.input(bid: world.bidIDs[0]), by: world.publisher, on: $0) }
            let lanzhou = try await db.withConnection {
                try await AccountStore.authenticate(AccessToken(value: world.bids.fixture.tokens["lanzhou"]!), on: $0)!
            }
            let jinchang = try await db.withConnection {
                try await AccountStore.authenticate(AccessToken(value: world.bids.fixture.tokens["jinchang"]!), on: $0)!
            }
            await #expect(throws: DomainError.self) {
                try await db.withTransaction {
                    try await ProjectStore.fileProgressReport(projectID: project.id, year: 2026, content: "中试线建设按计划推进。", by: jinchang, on: $0)
                }
            }
            // A report is for a year from the project's start to the current one.
            let thisYear = Calendar.current.dateComponents(in: Shanghai.timeZone, from: Date()).year!
            for year in [thisYear - 1, thisYear + 1] {
                await #expect(throws: DomainError.invalid("year", "must be from \(thisYear), the year the project started, to \(thisYear)")) {
                    try await db.withTransaction {
                        try await ProjectStore.fileProgressReport(projectID: project.id, year: year, content: "中试线建设按计划推进。", by: lanzhou, on: $0)
                    }
                }
            }
            let future = await Self.violation {
                try await db.execute(
                    "INSERT INTO progress_reports (project_id, year, content, filed_by) VALUES (\(project.id), \(thisYear + 1), '年度进展：完成设备安装调试。', \(lanzhou.userID))")
            }
            #expect(future == "progress_reports_year_of_project")
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL session_replication_role = replica")
                try await tx.execute("UPDATE projects SET created_at = '2025-06-01 09:00+08' WHERE id = \(project.id)")
            }
            let late = try await db.withTransaction {
                try await ProjectStore.fileProgressReport(projectID: project.id, year: 2025, content: "中试线建设按计划推进。", by: lanzhou, on: $0)
            }
            #expect(late)
            let lanzhouID = lanzhou.userID
            try await db.execute(
                """
                INSERT INTO progress_reports (project_id, year, content, filed_by, filed_at)
                VALUES (\(project.id), 2030, '年度进展：完成设备安装调试。', \(lanzhouID), '2030-12-10 23:59:00+08')
                """)
            try await db.execute(
                """
                INSERT INTO progress_reports (project_id, year, content, filed_by, filed_at)
                VALUES (\(project.id), 2031, '年度进展：完成设备安装调试。', \(lanzhouID), '2031-12-11 00:00:00+08')
                """)
            let flags = try await db.query("SELECT year, late FROM progress_reports WHERE year >= 2030 ORDER BY year").decode((Int, Bool).self)
            #expect(flags.map(\.1) == [false, true])
            let again = await Self.violation {
                _ = try await db.withTransaction {
                    try await ProjectStore.fileProgressReport(projectID: project.id, year: 2025, content: "补充说明本年度进展情况。", by: lanzhou, on: $0)
                }
            }
            #expect(again == "\(DomainError.conflict(field: "year", message: "the project's progress report for this year is already filed"))")
            let edited = await Self.violation { try await db.execute("UPDATE progress_reports SET content = '改写后的进展报告内容' WHERE year = 2025") }
            #expect(edited == "progress_reports_record")
            let forged = await Self.violation {
                try await db.execute(
                    "INSERT INTO progress_reports (project_id, year, content, filed_by) VALUES (\(project.id), 2032, '年度进展：完成设备安装调试。', \(world.publisher.userID))")
            }
            #expect(forged == "progress_reports_recommender")
        }
    }

    @Test("The deadline is extended at most once and by at most a year; a refused request stays recorded")
    func deadlineExtensions() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.awarded(db, bids: 1)
            let project = try await db.withTransaction { try await ProjectStore.create(Self.input(bid: world.bidIDs[0]), by: world.publisher, on: $0) }
            let lead = world.bids.leads[0].actor
            await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction {
                    try await ProjectStore.requestChange(
                        projectID: project.id, kind: "extend_deadline", reason: "设备到货延迟", newDeadline: "2031-01-01", details: "", by: lead, on: $0)
                }
            }
            let refused = try await db.withTransaction {
                try await ProjectStore.requestChange(
                    projectID: project.id, kind: "extend_deadline", reason: "设备到货延迟", newDeadline: "2030-06-30", details: "", by: lead, on: $0)
            }
            _ = try await db.withTransaction {
                try await ProjectStore.decideChange(projectID: project.id, changeID: refused, approve: false, note: "理由不充分", by: world.publisher, on: $0)
            }
            let request = try await db.withTransaction {
                try await ProjectStore.requestChange(
                    projectID: project.id, kind: "extend_deadline", reason: "设备到货延迟三个月", newDeadline: "2030-03-31", details: "", by: lead, on: $0)
            }
            let extended = try await db.withTransaction {
                try await ProjectStore.decideChange(projectID: project.id, changeID: request, approve: true, note: "同意延期", by: world.publisher, on: $0)
            }
            #expect(extended.completionDeadline == "2030-03-31")
            let refusedAtOnce = await Self.violation {
                _ = try await db.withTransaction {
                    try await ProjectStore.requestChange(
                        projectID: project.id, kind: "extend_deadline", reason: "再次延期", newDeadline: "2030-06-30", details: "", by: lead, on: $0)
                }
            }
            #expect(refusedAtOnce == "\(DomainError.conflict(field: "kind", message: "the deadline was already extended once"))")
            // Written around the Swift check, a second request is still never approved.
            let second = try await db.query(
                """
                INSERT INTO project_changes (project_id, kind, reason, new_deadline, details, requested_by)
                VALUES (\(project.id), 'extend_deadline', '再次延期', '2030-06-30', '', \(lead.userID)) RETURNING id
                """
            ).first!.decode(Int.self)
            let twice = await Self.violation {
                _ = try await db.withTransaction {
                    try await ProjectStore.decideChange(projectID: project.id, changeID: second, approve: true, note: "同意", by: world.publisher, on: $0)
                }
            }
            #expect(twice == "\(DomainError.conflict(field: "kind", message: "the deadline was already extended once"))")
            let moved = await Self.violation { try await db.execute("UPDATE projects SET completion_deadline = '2030-05-01' WHERE id = \(project.id)") }
            #expect(moved == "projects_extension_approved")
            let statuses = try await db.query("SELECT status FROM project_changes WHERE project_id = \(project.id) ORDER BY id").decode(String.self)
            #expect(statuses == ["refused", "approved", "pending"])
            let rewritten = await Self.violation { try await db.execute("UPDATE project_changes SET status = 'approved' WHERE id = \(refused)") }
            #expect(rewritten == "project_changes_decided_final")
        }
    }

    @Test("From 1 December the city's recommender is reminded of missing progress reports, and told once when they are late after 10 December")
    func progressReportReminders() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.awarded(db, bids: 1)
            _ = try await db.withTransaction { try await ProjectStore.create(Self.input(bid: world.bidIDs[0]), by: world.publisher, on: $0) }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = Shanghai.timeZone
            let year = calendar.component(.year, from: Date()) + 1
            func at(_ text: String) throws -> Date { try #require(ISO8601DateFormatter().date(from: text)) }
            func scan(_ moment: Date) async throws -> ReminderScan.Outcome {
                try await db.withTransaction { try await ReminderScan.progressReports.run(at: moment, on: $0) }
            }
            #expect(try await scan(at("\(year)-11-30T23:00:00+08:00")) == .init(created: 0, alreadySent: 0, muted: 0))
            #expect(try await scan(at("\(year)-11-30T17:00:00Z")) == .init(created: 1, alreadySent: 0, muted: 0))
            #expect(try await scan(at("\(year)-12-10T23:59:00+08:00")) == .init(created: 0, alreadySent: 1, muted: 0))
            #expect(try await scan(at("\(year)-12-11T00:00:00+08:00")) == .init(created: 1, alreadySent: 0, muted: 0))
            let lanzhou = try await db.query("SELECT id FROM users WHERE login = 'lanzhou'").first!.decode(Int.self)
            let told = try await db.query("SELECT user_id, occasion, body FROM notifications WHERE occasion LIKE 'progress_report.%' ORDER BY id")
                .decode((Int, String, String).self)
            #expect(told.map(\.0) == [lanzhou, lanzhou])
            #expect(told.map(\.1) == ["progress_report.due", "progress_report.overdue"])
            #expect(told[0].2.contains("\(year)年12月11日 00:00"))
            // Filed: no reminder the next year's December for that year's report.
            let recommender = try await db.withConnection {
                try await AccountStore.authenticate(AccessToken(value: world.bids.fixture.tokens["lanzhou"]!), on: $0)!
            }
            let project = try await db.query("SELECT id FROM projects").first!.decode(Int.self)
            try await db.execute(
                """
                INSERT INTO progress_reports (project_id, year, content, filed_by, filed_at)
                VALUES (\(project), \(year + 1), '中试线建设按计划推进。', \(recommender.userID), \("\(year + 1)-12-01 10:00:00+08")::timestamptz)
                """)
            #expect(try await scan(at("\(year + 1)-12-02T09:00:00+08:00")) == .init(created: 0, alreadySent: 0, muted: 0))
        }
    }
}

import Foundation
import Jiebang
import JiebangTesting
import JobQueue
import Postgres
import Testing

@Suite("Review rounds: draws, conflicts, loads, recusal and verification")
struct ReviewRoundTests {
    /// The constraint a statement broke, or nil when it succeeded.
    static func violation(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as PostgresError {
            return error.constraint ?? error.message
        } catch {
            return "\(error)"
        }
    }

    @Test("A draw records its seed's SHA-256 before it runs, then seats k experts per bid within every rule, and verify-draw reproduces it")
    func drawSeatsEveryBidWithinTheRules() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 6, experts: 14, challenges: 2, loadCap: 3)
            // Expert 0 works for bid 0's lead unit; expert 1 declared a tie to bid 1's partner; experts 12 and 13 share an organisation.
            try await db.execute("UPDATE experts SET unit_id = \(world.bids.leads[0].unitID) WHERE user_id = \(world.experts[0])")
            try await db.execute(
                "INSERT INTO expert_ties (expert_id, unit_id, reason) VALUES (\(world.experts[1]), \(world.bids.partners[1].unitID), '曾任该单位顾问')"
            )
            try await db.execute("UPDATE experts SET organisation = '甘肃省科学院' WHERE user_id IN (\(world.experts[12]), \(world.experts[13]))")
            let round = try await world.round(panelSize: 3, alternates: 1, q: "1/2")
            let requested = try await db.withTransaction {
                try await ReviewRoundStore.requestDraw(roundID: round, dryRun: false, by: world.publisher, on: $0)
            }
            #expect(requested.status == "pending")
            #expect(requested.seed == nil)
            #expect(requested.seedSha256.count == 64)
            let audited = try await db.query(
                "SELECT count(*) FROM audit_log WHERE action = 'review_draw.request' AND after->>'seedSha256' = \(requested.seedSha256)"
            ).first!.decode(Int.self)
            #expect(audited == 1)
            let jobs = try await db.query("SELECT count(*) FROM jobs WHERE kind = 'review.draw'").first!.decode(Int.self)
            #expect(jobs == 1)

            let result = try await db.withTransaction { try await ReviewDrawing.run(roundID: round, number: requested.number, on: $0) }
            #expect(result == .applied(seats: 18, alternates: 6))
            let again = try await db.withTransaction { try await ReviewDrawing.run(roundID: round, number: requested.number, on: $0) }
            #expect(again == .alreadyRun)

            let active = try await world.active(round)
            for bid in world.bidIDs {
                #expect(active.filter { $0.bid == bid && $0.role == "panel" }.count == 3)
                #expect(active.filter { $0.bid == bid && $0.role == "alternate" }.count == 1)
                let shared = active.filter { $0.bid == bid && [world.experts[12], world.experts[13]].contains($0.expert) }
                #expect(shared.count <= 1)
            }
            #expect(!active.contains { $0.bid == world.bidIDs[0] && $0.expert == world.experts[0] })
            #expect(!active.contains { $0.bid == world.bidIDs[1] && $0.expert == world.experts[1] })
            for expert in world.experts {
                #expect(active.filter { $0.expert == expert }.count <= 3)
            }
            let record = try await db.withConnection {
                try await ReviewRoundStore.draw(roundID: round, number: 1, by: world.publisher, on: $0)
            }
            #expect(record.status == "applied")
            let seed = try #require(record.seed)
            #expect(SHA256Hex.digest(of: Array(seed.utf8)) == requested.seedSha256)
            let percent = try #require(record.percentOfOptimum)
            #expect(percent > 0 && percent <= 100)
            #expect(record.outcome?.assignments.count == 18)
            let status = try await db.query("SELECT status FROM review_rounds WHERE id = \(round)").first!.decode(String.self)
            #expect(status == "assigned")
            let finding = try await db.withConnection { try await ReviewDrawCheck.verify(roundID: round, number: 1, on: $0) }
            #expect(finding == .reproduced(seats: 18, alternates: 6, applied: true))
            let told = try await db.query(
                "SELECT user_id, body FROM notifications WHERE occasion = 'review.assigned' ORDER BY user_id"
            ).decode((Int, String).self)
            #expect(told.map(\.0) == Array(Set(active.map(\.expert))).sorted())
            #expect(told.allSatisfy { $0.1.contains("第一轮评审") })
        }
    }

    @Test("verify-draw detects a changed seed, changed inputs, a changed outcome and changed assignments")
    func verificationDetectsTampering() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 3, experts: 8)
            let round = try await world.round(panelSize: 3, alternates: 0, q: "1/2")
            _ = try await world.draw(round)
            func verify() async throws -> ReviewDrawCheck.Finding {
                try await db.withConnection { try await ReviewDrawCheck.verify(roundID: round, number: 1, on: $0) }
            }
            #expect(try await verify().isSound)
            // The triggers refuse every one of these edits; an operator bypassing them is what verification catches.
            func tamper(_ statement: PostgresQuery) async throws {
                try await db.withTransaction { tx in
                    try await tx.execute("SET LOCAL session_replication_role = replica")
                    try await tx.execute(statement)
                }
            }
            let blocked = await Self.violation {
                try await db.execute("UPDATE review_draws SET seed = seed + 1 WHERE round_id = \(round)")
            }
            #expect(blocked == "review_draws_seed_digest")
            try await tamper("UPDATE review_draws SET seed = seed + 1 WHERE round_id = \(round)")
            #expect(try await verify() == .seedDoesNotMatchDigest)
            try await tamper("UPDATE review_draws SET seed = seed - 1 WHERE round_id = \(round)")
            #expect(try await verify().isSound)

            let original = try await db.query("SELECT inputs::text FROM review_draws WHERE round_id = \(round)").first!.decode(String.self)
            try await tamper(
                "UPDATE review_draws SET inputs = jsonb_set(inputs, '{experts,0,load}', '1') WHERE round_id = \(round)")
            guard case .inputsChanged = try await verify() else {
                Issue.record("changed inputs not detected")
                return
            }
            try await tamper("UPDATE review_draws SET inputs = \(original)::jsonb WHERE round_id = \(round)")
            #expect(try await verify().isSound)

            let outcome = try await db.query("SELECT outcome::text FROM review_draws WHERE round_id = \(round)").first!.decode(String.self)
            try await tamper(
                "UPDATE review_draws SET outcome = jsonb_set(outcome, '{assignments,0,0}', to_jsonb(\(String(world.experts[7])))) WHERE round_id = \(round)"
            )
            let changedOutcome = try await verify()
            #expect(changedOutcome == .outcomeDiffers || changedOutcome.isSound == false)
            try await tamper("UPDATE review_draws SET outcome = \(outcome)::jsonb WHERE round_id = \(round)")
            #expect(try await verify().isSound)

            let seated = try await db.query(
                "SELECT id, expert_id FROM review_assignments WHERE round_id = \(round) ORDER BY id LIMIT 1"
            ).first!.decode((Int, Int).self)
            let seatedExperts = Set(
                try await db.query("SELECT expert_id FROM review_assignments WHERE round_id = \(round)").decode(Int.self))
            let outsider = try #require(world.experts.first { !seatedExperts.contains($0) })
            try await tamper("UPDATE review_assignments SET expert_id = \(outsider) WHERE id = \(seated.0)")
            #expect(try await verify() == .appliedDiffers(missing: 1, extra: 1))
        }
    }

    @Test("The database refuses assignments that break a conflict, a load cap, the organisation rule or the panel size")
    func databaseRefusesBrokenAssignments() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 2, experts: 10, loadCap: 2)
            let round = try await world.round(panelSize: 3, alternates: 0)
            _ = try await world.draw(round)
            let bid = world.bidIDs[0]
            let active = try await world.active(round)
            let free = world.experts.filter { expert in !active.contains { $0.expert == expert } }
            func insert(_ expert: Int, _ bid: Int, role: String = "panel") async -> String? {
                await Self.violation {
                    try await db.execute(
                        """
                        INSERT INTO review_assignments (round_id, draw_number, bid_id, expert_id, organisation_key, role)
                        VALUES (\(round), 1, \(bid), \(expert), 'forged', \(role))
                        """)
                }
            }
            #expect(await insert(free[0], bid) == "review_assignments_panel_size")
            let seatedOnBid = try #require(active.first { $0.bid == bid && $0.role == "panel" })
            try await db.execute(
                """
                UPDATE review_assignments SET status = 'recused', recusal_reason = '回避', recused_at = now()
                WHERE round_id = \(round) AND bid_id = \(bid) AND expert_id = \(seatedOnBid.expert)
                """)
            // A conflict: the free expert now works for the bid's lead unit.
            try await db.execute("UPDATE experts SET unit_id = \(world.bids.leads[0].unitID) WHERE user_id = \(free[0])")
            #expect(await insert(free[0], bid) == "review_assignments_conflict")
            // A declared tie to the partner.
            try await db.execute(
                "INSERT INTO expert_ties (expert_id, unit_id, reason) VALUES (\(free[1]), \(world.bids.partners[0].unitID), '亲属任职')")
            #expect(await insert(free[1], bid) == "review_assignments_conflict")
            // The organisation rule: another expert of a seated expert's organisation.
            let stillSeated = try #require(active.first { $0.bid == bid && $0.role == "panel" && $0.expert != seatedOnBid.expert })
            try await db.execute(
                "UPDATE experts SET organisation = (SELECT organisation FROM experts WHERE user_id = \(stillSeated.expert)) WHERE user_id = \(free[2])"
            )
            #expect(await insert(free[2], bid) == "review_assignments_one_per_organisation")
            // The load cap: an expert already on both bids' panels (cap 2) cannot take a third seat.
            try await db.execute("UPDATE experts SET load_cap = 1 WHERE user_id = \(free[3])")
            #expect(await insert(free[3], world.bidIDs[1], role: "alternate") == "review_assignments_alternates")
            #expect(await insert(free[3], bid) == nil)
            try await db.execute(
                "UPDATE review_assignments SET status = 'recused', recusal_reason = '回避', recused_at = now() WHERE round_id = \(round) AND bid_id = \(world.bidIDs[1]) AND role = 'panel' AND expert_id = (SELECT min(expert_id) FROM review_assignments WHERE round_id = \(round) AND bid_id = \(world.bidIDs[1]))"
            )
            #expect(await insert(free[3], world.bidIDs[1]) == "review_assignments_load_cap")
            // The organisation key is the expert's, whatever the writer claims.
            let key = try await db.query(
                "SELECT organisation_key FROM review_assignments WHERE round_id = \(round) AND expert_id = \(free[3])"
            ).first!.decode(String.self)
            #expect(key.hasPrefix("name:"))
            // A tie declared while assigned: refused until the expert recuses.
            let tie = await Self.violation {
                try await db.execute(
                    "INSERT INTO expert_ties (expert_id, unit_id, reason) VALUES (\(free[3]), \(world.bids.leads[0].unitID), '新近合作')")
            }
            #expect(tie == "review_assignments_stay_conflict_free")
            // A recusal is final.
            let reopen = await Self.violation {
                try await db.execute(
                    "UPDATE review_assignments SET status = 'active', recusal_reason = NULL, recused_at = NULL WHERE round_id = \(round) AND expert_id = \(seatedOnBid.expert) AND bid_id = \(bid)"
                )
            }
            #expect(reopen == "review_assignments_recusal_final")
        }
    }

    @Test("Two transactions racing for an expert's last unit of load: exactly one gets it")
    func concurrentAssignmentsKeepTheLoadCap() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 2, experts: 3, loadCap: 1)
            let round = try await world.round(panelSize: 3, alternates: 0)
            try await db.execute(
                """
                INSERT INTO review_draws (round_id, number, dry_run, status, seed, seed_sha256, finished_at)
                VALUES (\(round), 1, false, 'applied', 7, encode(sha256('7'), 'hex'), now())
                """)
            let expert = world.experts[0]
            let outcomes = await withTaskGroup(of: String?.self) { group in
                for bid in world.bidIDs {
                    group.addTask {
                        await Self.violation {
                            try await db.withTransaction { tx in
                                try await tx.execute(
                                    """
                                    INSERT INTO review_assignments (round_id, draw_number, bid_id, expert_id, organisation_key, role)
                                    VALUES (\(round), 1, \(bid), \(expert), '', 'panel')
                                    """)
                                try await tx.execute("SELECT pg_sleep(0.3)")
                            }
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.contains("review_assignments_load_cap"))
        }
    }

    @Test("Too few experts: the draw fails with a message naming the bids and the constraint, and nothing is applied")
    func tooFewExpertsFailsCleanly() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 2, experts: 2)
            let round = try await world.round(panelSize: 3, alternates: 0)
            let (_, result) = try await world.draw(round)
            guard case .failed(let message) = result else {
                Issue.record("expected a failed draw, got \(result)")
                return
            }
            #expect(message.contains("bid \(world.bidIDs[0])"))
            #expect(message.contains("too few"))
            #expect(try await world.active(round).isEmpty)
            let row = try await db.query(
                "SELECT d.status, r.status FROM review_draws d JOIN review_rounds r ON r.id = d.round_id WHERE d.round_id = \(round)"
            )
            .first!.decode((String, String).self)
            #expect(row == ("failed", "preparing"))
            let finding = try await db.withConnection { try await ReviewDrawCheck.verify(roundID: round, number: 1, on: $0) }
            #expect(finding.isSound)
        }
    }

    @Test(
        "A draw whose job an operator cancels (or whose attempts run out) is failed with the job's reason, and the round can be drawn again"
    )
    func abandonedDrawJobFailsTheDraw() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 2, experts: 8)
            let round = try await world.round(panelSize: 3, alternates: 0)
            let first = try await db.withTransaction {
                try await ReviewRoundStore.requestDraw(roundID: round, dryRun: false, by: world.publisher, on: $0)
            }
            let job = try await db.query("SELECT id FROM jobs WHERE kind = 'review.draw'").first!.decode(Int.self)
            _ = try await db.withConnection { try await JobStore.cancel(id: job, on: $0) }
            let row = try await db.query("SELECT status, failure FROM review_draws WHERE round_id = \(round) AND number = \(first.number)")
                .first!.decode((String, String?).self)
            #expect(row.0 == "failed")
            #expect(row.1?.hasPrefix("the draw job was cancelled") == true)
            let second = try await db.withTransaction {
                try await ReviewRoundStore.requestDraw(roundID: round, dryRun: false, by: world.publisher, on: $0)
            }
            #expect(second.number == first.number + 1)
            #expect(second.status == "pending")
            // A job discarded after its last attempt fails its draw the same way.
            try await db.execute(
                """
                UPDATE jobs SET state = 'running', attempt = max_attempts, attempted_at = now(), lease_owner = 'test',
                    lease_expires_at = now() + interval '1 minute'
                WHERE kind = 'review.draw' AND state = 'available'
                """)
            try await db.execute(
                """
                UPDATE jobs SET state = 'discarded', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL,
                    errors = errors || jsonb_build_object('attempt', attempt, 'at', now(), 'message', 'solver crashed')
                WHERE kind = 'review.draw' AND state = 'running'
                """)
            let discarded = try await db.query(
                "SELECT status, failure FROM review_draws WHERE round_id = \(round) AND number = \(second.number)"
            )
            .first!.decode((String, String?).self)
            #expect(discarded.0 == "failed")
            #expect(discarded.1 == "the draw job was discarded: solver crashed")
        }
    }

    @Test("A recusal is filled by the bid's first alternate, then by a replacement drawn from the pool under the same rules")
    func recusalIsRefilled() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 2, experts: 10)
            let round = try await world.round(panelSize: 3, alternates: 1)
            _ = try await world.draw(round)
            let bid = world.bidIDs[0]
            func seat(role: String) async throws -> (Int, Int) {
                try await db.query(
                    """
                    SELECT id, expert_id FROM review_assignments
                    WHERE round_id = \(round) AND bid_id = \(bid) AND role = \(role) AND status = 'active' ORDER BY id LIMIT 1
                    """
                ).first!.decode((Int, Int).self)
            }
            let first = try await seat(role: "panel")
            let alternate = try await seat(role: "alternate")
            let wrongExpert = world.expertActor(alternate.1)
            await #expect(throws: DomainError.self) {
                try await db.withTransaction {
                    try await ReviewRecusal.recuse(assignmentID: first.0, reason: "回避", by: wrongExpert, on: $0)
                }
            }
            let me = world.expertActor(first.1)
            let mine = try await db.withConnection { try await ReviewRecusal.assignments(of: me, on: $0) }
            #expect(mine.contains { $0.id == first.0 && $0.bidID == bid })
            try await db.withTransaction { try await ReviewRecusal.recuse(assignmentID: first.0, reason: "与牵头单位存在合作关系", by: me, on: $0) }
            let queued = try await db.query("SELECT count(*) FROM jobs WHERE kind = 'review.replace_recused'").first!.decode(Int.self)
            #expect(queued == 1)
            let promoted = try await db.withTransaction { try await ReviewRecusal.replace(assignmentID: first.0, on: $0) }
            #expect(promoted == .promoted(expertID: alternate.1))
            let repeated = try await db.withTransaction { try await ReviewRecusal.replace(assignmentID: first.0, on: $0) }
            #expect(repeated == .notNeeded)

            let second = try await seat(role: "panel")
            try await db.withTransaction {
                try await ReviewRecusal.recuse(assignmentID: second.0, reason: "身体原因无法参加", by: world.expertActor(second.1), on: $0)
            }
            let drawn = try await db.withTransaction { try await ReviewRecusal.replace(assignmentID: second.0, on: $0) }
            guard case .drawn(let replacement) = drawn else {
                Issue.record("expected a replacement from the pool, got \(drawn)")
                return
            }
            let active = try await world.active(round)
            #expect(active.filter { $0.bid == bid && $0.role == "panel" }.count == 3)
            #expect(![first.1, second.1].contains(replacement))
            let source = try await db.query(
                "SELECT source FROM review_assignments WHERE round_id = \(round) AND bid_id = \(bid) AND expert_id = \(replacement)"
            ).first!.decode(String.self)
            #expect(source == "replacement")
            let finding = try await db.withConnection { try await ReviewDrawCheck.verify(roundID: round, number: 1, on: $0) }
            #expect(finding.isSound)
        }
    }

    @Test("A dry run previews without assigning anyone; each later draw is a new record that supersedes the one before")
    func dryRunsAndRedraws() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 3, experts: 9)
            let round = try await world.round(panelSize: 3, alternates: 0, q: "1/2")
            let (preview, previewed) = try await world.draw(round, dryRun: true)
            #expect(previewed == .previewed)
            #expect(try await world.active(round).isEmpty)
            let shown = try await db.withConnection {
                try await ReviewRoundStore.draw(roundID: round, number: preview.number, by: world.publisher, on: $0)
            }
            #expect(shown.outcome?.assignments.count == 9)
            #expect(shown.percentOfOptimum != nil)
            _ = try await world.draw(round)
            let (third, _) = try await world.draw(round)
            let statuses = try await db.query("SELECT status FROM review_draws WHERE round_id = \(round) ORDER BY number")
                .decode(String.self)
            #expect(statuses == ["previewed", "superseded", "applied"])
            let numbers = try await db.query("SELECT DISTINCT draw_number FROM review_assignments WHERE round_id = \(round)")
                .decode(Int.self)
            #expect(numbers == [third.number])
            let deleted = await Self.violation { try await db.execute("DELETE FROM review_draws WHERE round_id = \(round)") }
            #expect(deleted == "review_draws_record")
            for number in 1...3 {
                let finding = try await db.withConnection { try await ReviewDrawCheck.verify(roundID: round, number: number, on: $0) }
                #expect(finding.isSound, "draw \(number): \(finding)")
                // Only the applied draw (3) is compared with the round's assignments, and says so.
                #expect(finding.description.hasSuffix(" and applied") == (number == 3), "draw \(number): \(finding)")
            }
        }
    }

    @Test(
        "Experts with unsubmitted panel scores are reminded 3 days and 1 day before the scoring deadline and once when overdue, each once")
    func scoringDeadlineReminders() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 2, experts: 8)
            let round = try await world.round(panelSize: 3, alternates: 1)
            _ = try await world.draw(round)
            let deadline = try await db.query("SELECT scoring_deadline FROM review_rounds WHERE id = \(round)").first!.decode(Date.self)
            let active = try await world.active(round)
            let panel = Set(active.filter { $0.role == "panel" }.map(\.expert))
            // One expert has submitted every seat: they are never reminded.
            let diligent = try #require(panel.sorted().first)
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL session_replication_role = replica")
                try await tx.execute(
                    """
                    INSERT INTO review_scores (assignment_id, round_id, programme_id, status, submitted_at)
                    SELECT a.id, a.round_id, r.programme_id, 'submitted', now()
                    FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id
                    WHERE a.round_id = \(round) AND a.expert_id = \(diligent) AND a.role = 'panel'
                    """)
            }
            let due = panel.subtracting([diligent])
            func scan(_ moment: Date) async throws -> ReminderScan.Outcome {
                try await db.withTransaction { try await ReminderScan.reviewDeadlines.run(at: moment, on: $0) }
            }
            #expect(try await scan(deadline - 4 * 86_400) == .init(created: 0, alreadySent: 0, muted: 0))
            #expect(try await scan(deadline - 2 * 86_400) == .init(created: due.count, alreadySent: 0, muted: 0))
            #expect(try await scan(deadline - 2 * 86_400 + 600) == .init(created: 0, alreadySent: due.count, muted: 0))
            #expect(try await scan(deadline - 3_600).created == due.count)
            #expect(try await scan(deadline + 3_600).created == due.count)
            #expect(try await scan(deadline + 7_200).alreadySent == due.count)
            let told = try await db.query(
                "SELECT occasion, user_id FROM notifications WHERE occasion LIKE 'review.%due%' OR occasion = 'review.overdue'"
            ).decode((String, Int).self)
            #expect(Set(told.map(\.1)) == due)
            #expect(told.filter { $0.0 == "review.overdue" }.count == due.count)
            let overdue = try await db.query(
                "SELECT body FROM notifications WHERE occasion = 'review.overdue' LIMIT 1"
            ).first!.decode(String.self)
            #expect(overdue.contains("第一轮评审"))
        }
    }
}

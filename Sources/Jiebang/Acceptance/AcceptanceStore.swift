public import Foundation
import JobQueue
public import Postgres

/// Acceptance (验收): the lead's request, the experts' verdicts, the financial acceptance, the
/// conclusion, and the list of successful units. Each rule is checked here for a clear message and
/// again by the database (definitions/14_acceptance.sql). The experts are drawn by the
/// `acceptance.assign` job (`AcceptanceDrawing`).
public enum AcceptanceStore {
    /// How long a project may rectify after 整改后通过 before it is resubmitted.
    public static let rectificationMonths = 3

    /// The lead unit's admin requests acceptance with a result per task-book indicator and the spend; the
    /// first request while the project executes, the second while it rectifies (within three months).
    /// The draw's seed is chosen and its SHA-256 recorded now; the `acceptance.assign` job draws the panel.
    public static func request(projectID: Int, _ input: Acceptance.Input, by actor: Actor, on tx: PostgresConnection) async throws
        -> Acceptance
    {
        try AccessPolicy.require(actor, [.unitAdmin], to: "request acceptance")
        guard
            let row = try await tx.query(
                """
                SELECT p.lead_unit_id, p.status, p.rectify_by, g.review_panel_size,
                       (SELECT count(*) FROM project_indicators i WHERE i.project_id = p.id)
                FROM projects p JOIN programmes g ON g.id = p.programme_id
                WHERE p.id = \(projectID) FOR NO KEY UPDATE OF p
                """
            ).first
        else { throw DomainError.notFound("there is no project \(projectID)") }
        let (lead, statusText, rectifyBy, panelSize, indicators) = try row.decode((Int, String, Date?, Int, Int).self)
        guard actor.unitID == lead else { throw DomainError.notFound("there is no project \(projectID)") }
        var checker = FieldChecker()
        checker.length("summary", input.summary, 10...20000)
        checker.range("spentFen", input.spentFen, 0...100_000_000_000_000)
        if input.results.count != indicators {
            checker.add("results", "must give one result per indicator of the task book (\(indicators))")
        }
        for (index, result) in input.results.enumerated() {
            checker.length("results[\(index)].resultText", result.resultText, 1...500)
            if let value = result.result, abs(value) > 1_000_000_000_000 {
                checker.add("results[\(index)].result", "must be within ±10^12")
            }
        }
        try checker.check()
        let status = ProjectStatus(rawValue: statusText) ?? .executing
        let attempt: Int
        switch status {
        case .executing:
            attempt = 1
        case .rectifying:
            guard let rectifyBy, rectifyBy >= Date() else {
                throw DomainError.conflict(field: nil, message: "the three months to rectify have passed")
            }
            attempt = 2
        default:
            throw DomainError.conflict(field: nil, message: "a \(status.rawValue) project cannot request acceptance")
        }
        _ = try status.applyingOrConflict(attempt == 1 ? .requestAcceptance : .resubmit)
        var generator = SystemRandomNumberGenerator()
        let seed = generator.next() as UInt64
        let digest = SHA256Hex.digest(of: Array(String(seed).utf8))
        let id = try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO acceptances (project_id, attempt, summary, spent_fen, panel_size, seed, seed_sha256, requested_by)
                VALUES (\(projectID), \(attempt), \(input.summary), \(input.spentFen), \(panelSize), \(String(seed))::numeric, \(digest),
                        \(actor.userID))
                RETURNING id
                """
            ).first!.decode(Int.self)
            try await tx.execute(
                """
                INSERT INTO acceptance_results (acceptance_id, position, result, result_text)
                SELECT \(id), ordinality, NULLIF(r, '')::numeric, x
                FROM unnest(\(input.results.map { $0.result.map { "\($0)" } ?? "" })::text[],
                            \(input.results.map(\.resultText))::text[]) WITH ORDINALITY AS t (r, x, ordinality)
                """)
            try await tx.execute(
                "UPDATE projects SET status = \(attempt == 1 ? "acceptance_requested" : "under_acceptance") WHERE id = \(projectID)")
            return id
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "acceptance.request", entity: "project", entityID: String(projectID),
            after: ["acceptance": String(id), "attempt": String(attempt), "seedSha256": digest], on: tx)
        try await AcceptanceJobs.client.enqueue(AcceptanceJobs.Assign(acceptance: id), on: tx)
        return try await read(id: id, withPanel: false, on: tx)
    }

    /// The publisher asks for the experts to be drawn again after a failed draw (for example once the
    /// pool has grown): the same recorded seed, the pool as it is now, a new `acceptance.assign` job.
    public static func redraw(acceptanceID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Acceptance {
        let projectID = try await projectOf(acceptanceID: acceptanceID, on: tx)
        try await ProjectStore.requirePublisher(of: projectID, actor, missing: "there is no acceptance \(acceptanceID)", on: tx)
        let status = try await tx.query("SELECT status FROM acceptances WHERE id = \(acceptanceID) FOR NO KEY UPDATE").first!.decode(
            String.self)
        guard status == "draw_failed" else {
            throw DomainError.conflict(field: "status", message: "only a failed draw is drawn again (the acceptance is \(status))")
        }
        try await ConstraintCatalog.translating {
            try await tx.execute("UPDATE acceptances SET status = 'requested', failure = NULL WHERE id = \(acceptanceID)")
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "acceptance.redraw", entity: "acceptance",
            entityID: String(acceptanceID), on: tx)
        try await AcceptanceJobs.client.enqueue(AcceptanceJobs.Assign(acceptance: acceptanceID), on: tx)
        return try await read(id: acceptanceID, withPanel: true, on: tx)
    }

    /// An acceptance expert's verdict; the acceptance concludes in the same transaction once it is complete.
    public static func giveVerdict(acceptanceID: Int, _ verdict: Acceptance.Verdict, by actor: Actor, on tx: PostgresConnection)
        async throws -> Acceptance
    {
        try AccessPolicy.require(actor, [.expert], to: "give acceptance verdicts")
        guard
            let row = try await tx.query(
                """
                SELECT a.status, (SELECT count(*) FROM project_indicators i WHERE i.project_id = a.project_id),
                       EXISTS (SELECT 1 FROM acceptance_panel s WHERE s.acceptance_id = a.id AND s.expert_id = \(actor.userID)),
                       EXISTS (SELECT 1 FROM acceptance_verdicts v WHERE v.acceptance_id = a.id AND v.expert_id = \(actor.userID))
                FROM acceptances a WHERE a.id = \(acceptanceID) FOR NO KEY UPDATE
                """
            ).first
        else { throw DomainError.notFound("there is no acceptance \(acceptanceID)") }
        let (status, indicators, seated, given) = try row.decode((String, Int, Bool, Bool).self)
        guard seated else {
            throw DomainError.refusal(
                of: actor, scopedRoles: [.expert], missing: "there is no acceptance \(acceptanceID)",
                reason: "only the acceptance's experts give verdicts")
        }
        var checker = FieldChecker()
        if verdict.indicatorsMet.count != indicators {
            checker.add("indicatorsMet", "must judge each of the \(indicators) indicators of the task book")
        } else if verdict.conclusion != .fail,
            let reason = AcceptanceConclusion.reasonToFail(
                indicatorsMet: verdict.indicatorsMet, dataTrue: verdict.dataTrue, targetsKept: verdict.targetsKept)
        {
            checker.add("conclusion", "must be fail: \(reason)")
        }
        checker.maxLength("comment", verdict.comment ?? "", 5000)
        try checker.check()
        guard !given else { throw DomainError.conflict(field: nil, message: "you already gave your verdict on acceptance \(acceptanceID)") }
        guard status == "assigned" else {
            throw DomainError.conflict(field: nil, message: "the acceptance is \(status), not awaiting verdicts")
        }
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                INSERT INTO acceptance_verdicts (acceptance_id, expert_id, indicators_met, data_true, targets_kept, conclusion, comment)
                VALUES (\(acceptanceID), \(actor.userID), \(verdict.indicatorsMet), \(verdict.dataTrue), \(verdict.targetsKept),
                        \(verdict.conclusion.rawValue), \(verdict.comment ?? ""))
                """)
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "acceptance.verdict", entity: "acceptance",
            entityID: String(acceptanceID), after: ["conclusion": verdict.conclusion.rawValue], on: tx)
        try await concludeIfComplete(acceptanceID: acceptanceID, on: tx)
        return try await read(id: acceptanceID, withPanel: false, on: tx)
    }

    /// The publisher's financial acceptance (spend against budget); the acceptance concludes in the same
    /// transaction once it is complete.
    public static func judgeFinances(acceptanceID: Int, passed: Bool, note: String, by actor: Actor, on tx: PostgresConnection)
        async throws -> Acceptance
    {
        let projectID = try await projectOf(acceptanceID: acceptanceID, on: tx)
        try await ProjectStore.requirePublisher(of: projectID, actor, missing: "there is no acceptance \(acceptanceID)", on: tx)
        var checker = FieldChecker()
        checker.maxLength("note", note, 2000)
        try checker.check()
        let (status, decided) = try await tx.query(
            "SELECT status, financial_passed IS NOT NULL FROM acceptances WHERE id = \(acceptanceID) FOR NO KEY UPDATE"
        ).first!.decode((String, Bool).self)
        guard !decided else {
            throw DomainError.conflict(field: "passed", message: "the finances of acceptance \(acceptanceID) are already judged")
        }
        guard status == "requested" || status == "assigned" else {
            throw DomainError.conflict(field: nil, message: "the acceptance is \(status)")
        }
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE acceptances SET financial_passed = \(passed), financial_note = \(note), financial_decided_by = \(actor.userID),
                       financial_decided_at = now()
                WHERE id = \(acceptanceID)
                """)
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "acceptance.finances", entity: "acceptance",
            entityID: String(acceptanceID), after: ["passed": String(passed)], on: tx)
        try await concludeIfComplete(acceptanceID: acceptanceID, on: tx)
        return try await read(id: acceptanceID, withPanel: true, on: tx)
    }

    /// Concludes an assigned acceptance whose every expert gave a verdict and whose finances were judged:
    /// records the panel's and the overall conclusion and moves the project (accepted with its result
    /// record, rectifying for three months, or failed with its scheduled tranches cancelled).
    static func concludeIfComplete(acceptanceID: Int, on tx: PostgresConnection) async throws {
        let (status, attempt, projectID, financial, seated) = try await tx.query(
            """
            SELECT status, attempt, project_id, financial_passed, (SELECT count(*) FROM acceptance_panel WHERE acceptance_id = a.id)
            FROM acceptances a WHERE id = \(acceptanceID)
            """
        ).first!.decode((String, Int, Int, Bool?, Int).self)
        let verdicts = try await tx.query("SELECT conclusion FROM acceptance_verdicts WHERE acceptance_id = \(acceptanceID)")
            .decode(String.self).compactMap(AcceptanceConclusion.init(rawValue:))
        guard status == "assigned", let financial, seated > 0, verdicts.count == seated, let task = AcceptanceConclusion.ofPanel(verdicts)
        else { return }
        let conclusion = AcceptanceConclusion.overall(task: task, financialPassed: financial, attempt: attempt)
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE acceptances SET status = 'concluded', task_conclusion = \(task.rawValue), conclusion = \(conclusion.rawValue),
                       concluded_at = now()
                WHERE id = \(acceptanceID)
                """)
            switch conclusion {
            case .pass:
                try await tx.execute("UPDATE projects SET status = 'accepted' WHERE id = \(projectID)")
                try await tx.execute(
                    """
                    INSERT INTO achievements (project_id, title, summary)
                    SELECT p.id, c.title, a.summary FROM projects p JOIN challenges c ON c.id = p.challenge_id
                    JOIN acceptances a ON a.id = \(acceptanceID) WHERE p.id = \(projectID)
                    """)
                try await schedulePostSubsidy(projectID: projectID, acceptanceID: acceptanceID, on: tx)
            case .rectify:
                try await tx.execute(
                    """
                    UPDATE projects SET status = 'rectifying', rectify_by = now() + \(rectificationMonths) * interval '1 month'
                    WHERE id = \(projectID)
                    """)
            case .fail:
                try await tx.execute("UPDATE tranches SET status = 'cancelled' WHERE project_id = \(projectID) AND status = 'scheduled'")
                try await tx.execute("UPDATE projects SET status = 'failed' WHERE id = \(projectID)")
            }
        }
        try await AuditLog.append(
            actor: "system", action: "acceptance.conclude", entity: "project", entityID: String(projectID),
            after: ["acceptance": String(acceptanceID), "task": task.rawValue, "conclusion": conclusion.rawValue], on: tx)
    }

    /// 后补助: in a post_subsidy programme, schedules the one tranche of an accepted project: the
    /// programme's share of the spend the acceptance verified (`FundingPolicy.cap`), within the award.
    static func schedulePostSubsidy(projectID: Int, acceptanceID: Int, on tx: PostgresConnection) async throws {
        let (mode, ratio, cap, award, spent) = try await tx.query(
            """
            SELECT g.funding_mode, g.funding_ratio_cap_bp, g.funding_absolute_cap_fen, p.award_fen, a.spent_fen
            FROM projects p JOIN programmes g ON g.id = p.programme_id JOIN acceptances a ON a.id = \(acceptanceID)
            WHERE p.id = \(projectID)
            """
        ).first!.decode((String, Int, Int64, Int64, Int64).self)
        guard mode == FundingPolicy.Mode.postSubsidy.rawValue else { return }
        let policy = FundingPolicy(ratioCapBasisPoints: ratio, absoluteCapFen: cap, mode: .postSubsidy)
        let amount = min(policy.cap(totalInvestmentFen: spent), award)
        guard amount > 0 else { return }
        try await tx.execute("INSERT INTO tranches (project_id, amount_fen, post_subsidy) VALUES (\(projectID), \(amount), true)")
    }

    /// Fails the projects whose three months to rectify passed without a resubmission.
    /// - Returns: how many failed.
    @discardableResult
    public static func expireRectifications(at now: Date, on tx: PostgresConnection) async throws -> Int {
        let expired = try await tx.query(
            """
            SELECT id FROM projects WHERE status = 'rectifying' AND rectify_by < \(now) ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
            """
        ).decode(Int.self)
        for projectID in expired {
            try await tx.execute("UPDATE tranches SET status = 'cancelled' WHERE project_id = \(projectID) AND status = 'scheduled'")
            try await tx.execute("UPDATE projects SET status = 'failed' WHERE id = \(projectID)")
            try await AuditLog.append(
                actor: "system", action: "project.rectification_expired", entity: "project", entityID: String(projectID), on: tx)
        }
        return expired.count
    }

    /// One acceptance, for the programme's publisher (with the panel and verdicts), the lead unit's
    /// people, and its experts.
    public static func acceptance(id: Int, by actor: Actor, on db: PostgresConnection) async throws -> Acceptance {
        guard
            let row = try await db.query(
                """
                SELECT g.bureau_id, p.lead_unit_id,
                       EXISTS (SELECT 1 FROM acceptance_panel s WHERE s.acceptance_id = a.id AND s.expert_id = \(actor.userID))
                FROM acceptances a JOIN projects p ON p.id = a.project_id JOIN programmes g ON g.id = p.programme_id
                WHERE a.id = \(id)
                """
            ).first
        else { throw DomainError.notFound("there is no acceptance \(id)") }
        let (bureau, lead, seated) = try row.decode((Int, Int, Bool).self)
        let publisher = AccessPolicy.mayManageProgrammes(ofBureau: bureau, by: actor)
        let allowed =
            publisher || ([.unitAdmin, .unitMember].contains(actor.role) && actor.unitID == lead) || (actor.role == .expert && seated)
        guard allowed else {
            throw DomainError.refusal(
                of: actor, scopedRoles: [.provincialPublisher, .unitAdmin, .unitMember, .expert], missing: "there is no acceptance \(id)",
                reason: "only the publisher, the lead unit and the acceptance's experts read it")
        }
        return try await read(id: id, withPanel: publisher, on: db)
    }

    /// The acceptances an expert sits on, newest first.
    public static func assigned(to actor: Actor, on db: PostgresConnection) async throws -> [Assignment] {
        try AccessPolicy.require(actor, [.expert], to: "read acceptance assignments")
        return try await db.query(
            """
            SELECT a.id, a.project_id, c.title, a.status,
                   EXISTS (SELECT 1 FROM acceptance_verdicts v WHERE v.acceptance_id = a.id AND v.expert_id = s.expert_id)
            FROM acceptance_panel s JOIN acceptances a ON a.id = s.acceptance_id JOIN projects p ON p.id = a.project_id
            JOIN challenges c ON c.id = p.challenge_id
            WHERE s.expert_id = \(actor.userID)
            ORDER BY a.id DESC LIMIT 500
            """
        ).decode((Int, Int, String, String, Bool).self).map {
            Assignment(acceptanceID: $0.0, projectID: $0.1, challengeTitle: $0.2, status: $0.3, verdictGiven: $0.4)
        }
    }

    /// An expert's seat on an acceptance.
    public struct Assignment: Codable, Sendable, Hashable {
        public var acceptanceID: Int
        public var projectID: Int
        public var challengeTitle: String
        public var status: String
        public var verdictGiven: Bool
    }

    /// One acceptance as stored.
    public static func read(id: Int, withPanel: Bool, on db: PostgresConnection) async throws -> Acceptance {
        guard
            let row = try await db.query(
                """
                SELECT a.project_id, a.attempt, a.status, a.summary, a.spent_fen, a.panel_size, a.seed_sha256, a.seed::text,
                       (SELECT count(*) FROM acceptance_verdicts v WHERE v.acceptance_id = a.id),
                       a.financial_passed, a.financial_note, a.task_conclusion, a.conclusion, a.failure,
                       a.requested_at, a.assigned_at, a.concluded_at, p.rectify_by
                FROM acceptances a JOIN projects p ON p.id = a.project_id WHERE a.id = \(id)
                """
            ).first
        else { throw DomainError.notFound("there is no acceptance \(id)") }
        let (
            project, attempt, status, summary, spent, panelSize, digest, seed, verdicts, financial, note, task, conclusion, failure,
            requested,
            assigned, concluded, rectifyBy
        ) = try row.decode(
            (Int, Int, String, String, Int, Int, String, String, Int, Bool?, String, String?, String?, String?, Date, Date?, Date?, Date?)
                .self)
        let results = try await db.query(
            "SELECT position, result::text, result_text FROM acceptance_results WHERE acceptance_id = \(id) ORDER BY position"
        ).decode((Int, String?, String).self).map {
            Acceptance.Result(position: $0.0, result: $0.1.flatMap { Decimal(string: $0) }, resultText: $0.2)
        }
        var panel: [Acceptance.Seat]?
        if withPanel {
            panel = try await db.query(
                """
                SELECT s.expert_id, v.indicators_met, v.data_true, v.targets_kept, v.conclusion, v.comment
                FROM acceptance_panel s LEFT JOIN acceptance_verdicts v ON v.acceptance_id = s.acceptance_id AND v.expert_id = s.expert_id
                WHERE s.acceptance_id = \(id) ORDER BY s.expert_id
                """
            ).decode((Int, [Bool]?, Bool?, Bool?, String?, String?).self).map { seat in
                var verdict: Acceptance.Verdict?
                if let met = seat.1, let dataTrue = seat.2, let kept = seat.3, let conclusion = seat.4.flatMap(AcceptanceConclusion.init) {
                    verdict = .init(indicatorsMet: met, dataTrue: dataTrue, targetsKept: kept, conclusion: conclusion, comment: seat.5)
                }
                return Acceptance.Seat(expertID: seat.0, verdict: verdict)
            }
        }
        return Acceptance(
            id: id, projectID: project, attempt: attempt, status: status, summary: summary, spentFen: spent, panelSize: panelSize,
            seedSha256: digest, seed: status == "requested" ? nil : seed, results: results, verdicts: verdicts, panel: panel,
            financialPassed: financial, financialNote: note,
            taskConclusion: task.flatMap(AcceptanceConclusion.init), conclusion: conclusion.flatMap(AcceptanceConclusion.init),
            failure: failure, requestedAt: requested, assignedAt: assigned, concludedAt: concluded,
            rectifyBy: status == "concluded" && conclusion == "rectify" ? rectifyBy : nil)
    }

    static func projectOf(acceptanceID: Int, on db: PostgresConnection) async throws -> Int {
        guard let project = try await db.query("SELECT project_id FROM acceptances WHERE id = \(acceptanceID)").first?.decode(Int.self)
        else {
            throw DomainError.notFound("there is no acceptance \(acceptanceID)")
        }
        return project
    }
}

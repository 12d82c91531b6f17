public import Foundation
public import Postgres

/// Projects in execution: created from a final award with their task book, milestones approved, tranches
/// paid, racers stopped, progress reports filed, changes requested and decided. Each rule is checked here
/// for a clear message and again by the database (definitions/13_projects.sql).
public enum ProjectStore {
    /// Turns the final award of `input.bidID` into a project with its task book, milestones and tranches.
    /// - Throws: `DomainError`: forbidden unless the actor publishes the programme; invalid fields (a
    ///   target that lowers an indicator, tranches beyond the award, dates); conflict when the bid has no
    ///   final award or already a project.
    public static func create(_ input: Project.Input, by actor: Actor, on tx: PostgresConnection) async throws -> Project {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "start projects")
        guard
            let row = try await tx.query(
                """
                SELECT p.bureau_id, c.indicators, to_char(c.completion_deadline, 'YYYY-MM-DD'), b.requested_funding_fen, p.funding_mode,
                       EXISTS (SELECT 1 FROM awards a JOIN award_notices n ON n.challenge_id = a.challenge_id
                               WHERE a.bid_id = b.id AND n.finalised_at IS NOT NULL),
                       EXISTS (SELECT 1 FROM projects WHERE bid_id = b.id)
                FROM bids b JOIN challenges c ON c.id = b.challenge_id JOIN programmes p ON p.id = b.programme_id
                WHERE b.id = \(input.bidID)
                """
            ).first
        else { throw DomainError.invalid("bidID", "there is no bid \(input.bidID)") }
        let (bureau, indicators, challengeDeadline, requested, fundingMode, final, exists) = try row.decode(
            (Int, [String], String, Int, String, Bool, Bool).self)
        let postSubsidy = fundingMode == FundingPolicy.Mode.postSubsidy.rawValue
        guard AccessPolicy.mayManageProgrammes(ofBureau: bureau, by: actor) else {
            throw DomainError.forbidden("only the programme's publisher starts its projects")
        }
        guard final else { throw DomainError.conflict(field: "bidID", message: "bid \(input.bidID) has no final award") }
        guard !exists else { throw DomainError.conflict(field: "bidID", message: "bid \(input.bidID) already has a project") }
        var checker = FieldChecker()
        if input.awardFen <= 0 || input.awardFen > requested {
            checker.add("awardFen", "must be from 1 to the \(requested) fen the bid requested")
        }
        let deadline = input.completionDeadline ?? challengeDeadline
        if ChallengeDrafting.Input.calendarDate(deadline) == nil {
            checker.add("completionDeadline", "must be a date YYYY-MM-DD between 2000 and 2200")
        }
        if input.indicators.count != indicators.count {
            checker.add("indicators", "must give one target per indicator of the challenge (\(indicators.count))")
        } else {
            for (index, (text, target)) in zip(indicators, input.indicators).enumerated() {
                checker.length("indicators[\(index)].targetText", target.targetText, 1...500)
                let bound = IndicatorThreshold(parsing: text)
                if !bound.isKept(by: target.target) {
                    checker.add(
                        "indicators[\(index)].target",
                        target.target == nil
                            ? "is required: the challenge's indicator \"\(text)\" has a bound"
                            : "lowers the challenge's indicator \"\(text)\"")
                }
            }
        }
        if input.milestones.isEmpty || input.milestones.count > 50 {
            checker.add("milestones", "must list 1 to 50 milestones")
        }
        for (index, milestone) in input.milestones.enumerated() {
            checker.name("milestones[\(index)].title", milestone.title, 2...200)
            checker.length("milestones[\(index)].deliverables", milestone.deliverables, 2...5000)
            if ChallengeDrafting.Input.calendarDate(milestone.dueOn) == nil {
                checker.add("milestones[\(index)].dueOn", "must be a date YYYY-MM-DD between 2000 and 2200")
            }
        }
        if postSubsidy {
            if !input.tranches.isEmpty {
                checker.add("tranches", "must be empty: the programme pays 后补助, a share of the verified spend after acceptance")
            }
        } else if input.tranches.isEmpty || input.tranches.count > 50 {
            checker.add("tranches", "must list 1 to 50 tranches")
        }
        var total = 0
        for (index, tranche) in input.tranches.enumerated() {
            if tranche.amountFen <= 0 || tranche.amountFen > 100_000_000_000 {
                checker.add("tranches[\(index)].amountFen", "must be positive")
            } else {
                total += tranche.amountFen
            }
            if let milestone = tranche.milestone, milestone < 1 || milestone > input.milestones.count {
                checker.add("tranches[\(index)].milestone", "must be the position (1-based) of a listed milestone")
            }
        }
        if total > input.awardFen {
            checker.add("tranches", "add up to \(total) fen, more than the award of \(input.awardFen) fen")
        }
        try checker.check()
        return try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO projects (bid_id, challenge_id, programme_id, lead_unit_id, region_code, award_fen,
                                      completion_deadline, original_completion_deadline, created_by)
                SELECT id, challenge_id, programme_id, lead_unit_id, region_code, \(input.awardFen), \(deadline)::date,
                       \(deadline)::date, \(actor.userID)
                FROM bids WHERE id = \(input.bidID)
                RETURNING id
                """
            ).first!.decode(Int.self)
            try await tx.execute(
                """
                INSERT INTO project_indicators (project_id, position, challenge_text, direction, target, target_text)
                SELECT \(id), ordinality, '', 'qualitative', NULLIF(t, '')::numeric, x
                FROM unnest(\(input.indicators.map { $0.target.map { "\($0)" } ?? "" })::text[],
                            \(input.indicators.map(\.targetText))::text[]) WITH ORDINALITY AS i (t, x, ordinality)
                """)
            let milestoneIDs = try await tx.query(
                """
                INSERT INTO milestones (project_id, position, title, due_on, deliverables)
                SELECT \(id), ordinality, t, d::date, x
                FROM unnest(\(input.milestones.map(\.title))::text[], \(input.milestones.map(\.dueOn))::text[],
                            \(input.milestones.map(\.deliverables))::text[]) WITH ORDINALITY AS m (t, d, x, ordinality)
                RETURNING id
                """
            ).decode(Int.self).sorted()
            for tranche in input.tranches {
                let milestone = tranche.milestone.map { milestoneIDs[$0 - 1] }
                try await tx.execute(
                    "INSERT INTO tranches (project_id, milestone_id, amount_fen) VALUES (\(id), \(milestone), \(tranche.amountFen))")
            }
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "project.create", entity: "project", entityID: String(id),
                after: ["bid": String(input.bidID), "awardFen": String(input.awardFen), "deadline": deadline], on: tx)
            return try await read(id: id, on: tx)
        }
    }

    /// The lead unit submits a milestone's deliverables for review.
    public static func submitMilestone(projectID: Int, position: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Project {
        try AccessPolicy.require(actor, [.unitAdmin, .unitMember], to: "submit milestones")
        let lead = try await leadUnit(of: projectID, on: tx)
        guard actor.unitID == lead else { throw DomainError.notFound("there is no project \(projectID)") }
        let changed = try await tx.execute(
            """
            UPDATE milestones SET status = 'submitted', decided_at = NULL
            WHERE project_id = \(projectID) AND position = \(position) AND status IN ('planned', 'rejected')
            """)
        guard changed == 1 else {
            throw DomainError.conflict(field: "position", message: "milestone \(position) is not planned or rejected")
        }
        return try await read(id: projectID, on: tx)
    }

    /// The publisher approves or rejects a submitted milestone.
    public static func decideMilestone(
        projectID: Int, position: Int, approve: Bool, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Project {
        try await requirePublisher(of: projectID, actor, on: tx)
        let changed = try await tx.execute(
            """
            UPDATE milestones SET status = \(approve ? "approved" : "rejected"), decided_at = now()
            WHERE project_id = \(projectID) AND position = \(position) AND status = 'submitted'
            """)
        guard changed == 1 else { throw DomainError.conflict(field: "position", message: "milestone \(position) is not submitted") }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: approve ? "milestone.approve" : "milestone.reject",
            entity: "project", entityID: String(projectID), after: ["milestone": String(position)], on: tx)
        return try await read(id: projectID, on: tx)
    }

    /// The publisher records a tranche as paid (once its milestone is approved).
    public static func payTranche(projectID: Int, trancheID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Project {
        try await requirePublisher(of: projectID, actor, on: tx)
        guard
            let row = try await tx.query(
                """
                SELECT t.status, m.status FROM tranches t LEFT JOIN milestones m ON m.id = t.milestone_id
                WHERE t.id = \(trancheID) AND t.project_id = \(projectID)
                """
            ).first
        else { throw DomainError.notFound("project \(projectID) has no tranche \(trancheID)") }
        let (status, milestone) = try row.decode((String, String?).self)
        guard status == "scheduled" else { throw DomainError.conflict(field: nil, message: "the tranche is \(status)") }
        if let milestone, milestone != "approved" {
            throw DomainError.conflict(field: nil, message: "the tranche is paid only once its milestone is approved (it is \(milestone))")
        }
        try await ConstraintCatalog.translating {
            try await tx.execute("UPDATE tranches SET status = 'paid', paid_at = now() WHERE id = \(trancheID)")
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "tranche.pay", entity: "project", entityID: String(projectID),
            after: ["tranche": String(trancheID)], on: tx)
        return try await read(id: projectID, on: tx)
    }

    /// 赛马制: the publisher stops a racer (a project of a challenge with several winners); its scheduled
    /// tranches are cancelled.
    public static func stop(projectID: Int, reason: String, by actor: Actor, on tx: PostgresConnection) async throws -> Project {
        try await requirePublisher(of: projectID, actor, on: tx)
        var checker = FieldChecker()
        checker.length("reason", reason, 2...2000)
        try checker.check()
        let (status, winners) = try await tx.query(
            "SELECT p.status, c.winners FROM projects p JOIN challenges c ON c.id = p.challenge_id WHERE p.id = \(projectID) FOR UPDATE OF p"
        ).first!.decode((String, Int).self)
        guard winners > 1 else {
            throw DomainError.conflict(field: nil, message: "only a racer of a challenge with several winners (赛马制) is stopped")
        }
        _ = try (ProjectStatus(rawValue: status) ?? .executing).applyingOrConflict(.stop)
        try await tx.execute("UPDATE tranches SET status = 'cancelled' WHERE project_id = \(projectID) AND status = 'scheduled'")
        try await ConstraintCatalog.translating {
            try await tx.execute(
                "UPDATE projects SET status = 'stopped', stopped_reason = \(reason.trimmingCharacters(in: .whitespacesAndNewlines)) WHERE id = \(projectID)"
            )
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "project.stop", entity: "project", entityID: String(projectID),
            after: ["reason": reason], on: tx)
        return try await read(id: projectID, on: tx)
    }

    /// The recommender of the lead unit's city files the project's progress report for `year`.
    /// - Returns: whether it was late (after 10 December, Asia/Shanghai).
    public static func fileProgressReport(
        projectID: Int, year: Int, content: String, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Bool {
        try AccessPolicy.require(actor, [.municipalRecommender], to: "file progress reports")
        guard
            let row = try await tx.query(
                """
                SELECT region_code, extract(year FROM created_at AT TIME ZONE 'Asia/Shanghai')::int,
                       extract(year FROM now() AT TIME ZONE 'Asia/Shanghai')::int
                FROM projects WHERE id = \(projectID)
                """
            ).first
        else { throw DomainError.notFound("there is no project \(projectID)") }
        let (region, started, current) = try row.decode((String, Int, Int).self)
        guard actor.regionCode == region else { throw DomainError.notFound("there is no project \(projectID)") }
        var checker = FieldChecker()
        if year < started || year > current {
            checker.add("year", "must be from \(started), the year the project started, to \(current)")
        }
        checker.length("content", content, 10...20000)
        try checker.check()
        return try await ConstraintCatalog.translating {
            try await tx.query(
                """
                INSERT INTO progress_reports (project_id, year, content, filed_by) VALUES (\(projectID), \(year), \(content), \(actor.userID))
                RETURNING late
                """
            ).first!.decode(Bool.self)
        }
    }

    /// The lead unit asks to extend the deadline (at most once, by at most a year in all), to change a
    /// partner or to clarify an indicator.
    /// - Returns: the request's id.
    public static func requestChange(
        projectID: Int, kind: String, reason: String, newDeadline: String?, details: String, by actor: Actor,
        on tx: PostgresConnection
    ) async throws -> Int {
        try AccessPolicy.require(actor, [.unitAdmin], to: "request project changes")
        let lead = try await leadUnit(of: projectID, on: tx)
        guard actor.unitID == lead else { throw DomainError.notFound("there is no project \(projectID)") }
        var checker = FieldChecker()
        if !["extend_deadline", "change_partner", "clarify_indicator"].contains(kind) {
            checker.add("kind", "must be extend_deadline, change_partner or clarify_indicator")
        }
        checker.length("reason", reason, 2...2000)
        checker.maxLength("details", details, 5000)
        if kind == "extend_deadline" {
            if newDeadline.flatMap(ChallengeDrafting.Input.calendarDate) == nil {
                checker.add("newDeadline", "must be a date YYYY-MM-DD for an extension")
            }
        } else if newDeadline != nil {
            checker.add("newDeadline", "is only for an extension")
        }
        try checker.check()
        if kind == "extend_deadline",
            try await tx.query(
                "SELECT 1 FROM project_changes WHERE project_id = \(projectID) AND kind = 'extend_deadline' AND status = 'approved'"
            ).first != nil
        {
            throw DomainError.conflict(field: "kind", message: "the deadline was already extended once")
        }
        return try await ConstraintCatalog.translating {
            try await tx.query(
                """
                INSERT INTO project_changes (project_id, kind, reason, new_deadline, details, requested_by)
                VALUES (\(projectID), \(kind), \(reason), \(newDeadline)::date, \(details), \(actor.userID))
                RETURNING id
                """
            ).first!.decode(Int.self)
        }
    }

    /// The publisher approves or refuses a pending change request; an approved extension moves the deadline.
    public static func decideChange(
        projectID: Int, changeID: Int, approve: Bool, note: String, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Project {
        try await requirePublisher(of: projectID, actor, on: tx)
        var checker = FieldChecker()
        checker.maxLength("note", note, 2000)
        try checker.check()
        guard
            let row = try await tx.query(
                """
                SELECT kind, status, to_char(new_deadline, 'YYYY-MM-DD') FROM project_changes
                WHERE id = \(changeID) AND project_id = \(projectID) FOR UPDATE
                """
            ).first
        else { throw DomainError.notFound("project \(projectID) has no change request \(changeID)") }
        let (kind, status, deadline) = try row.decode((String, String, String?).self)
        guard status == "pending" else { throw DomainError.conflict(field: nil, message: "the request is already \(status)") }
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE project_changes SET status = \(approve ? "approved" : "refused"), decided_by = \(actor.userID),
                       decided_at = now(), decision_note = \(note)
                WHERE id = \(changeID)
                """)
            if approve, kind == "extend_deadline", let deadline {
                try await tx.execute("UPDATE projects SET completion_deadline = \(deadline)::date WHERE id = \(projectID)")
            }
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: approve ? "project_change.approve" : "project_change.refuse",
            entity: "project", entityID: String(projectID), after: ["change": String(changeID), "kind": kind], on: tx)
        return try await read(id: projectID, on: tx)
    }

    /// One project, for its programme's publisher, the lead unit's people and the recommender of its city.
    public static func project(id: Int, by actor: Actor, on db: PostgresConnection) async throws -> Project {
        guard
            let row = try await db.query(
                "SELECT g.bureau_id, p.lead_unit_id, p.region_code FROM projects p JOIN programmes g ON g.id = p.programme_id WHERE p.id = \(id)"
            ).first
        else { throw DomainError.notFound("there is no project \(id)") }
        let (bureau, lead, region) = try row.decode((Int, Int, String).self)
        let allowed =
            AccessPolicy.mayManageProgrammes(ofBureau: bureau, by: actor)
            || ([.unitAdmin, .unitMember].contains(actor.role) && actor.unitID == lead)
            || (actor.role == .municipalRecommender && actor.regionCode == region)
        guard allowed else {
            throw DomainError.refusal(
                of: actor, scopedRoles: [.provincialPublisher, .unitAdmin, .unitMember, .municipalRecommender],
                missing: "there is no project \(id)", reason: "only the publisher, the lead unit and its city's recommender read a project")
        }
        return try await read(id: id, on: db)
    }

    /// One project, as stored.
    public static func read(id: Int, on db: PostgresConnection) async throws -> Project {
        guard
            let row = try await db.query(
                """
                SELECT id, bid_id, challenge_id, programme_id, lead_unit_id, region_code, status, award_fen,
                       (SELECT coalesce(sum(amount_fen), 0) FROM tranches WHERE project_id = p.id AND status = 'paid'),
                       to_char(completion_deadline, 'YYYY-MM-DD'), to_char(original_completion_deadline, 'YYYY-MM-DD'),
                       stopped_reason, revision
                FROM projects p WHERE id = \(id)
                """
            ).first
        else { throw DomainError.notFound("there is no project \(id)") }
        let indicators = try await db.query(
            """
            SELECT position, challenge_text, direction, challenge_threshold::text, target::text, target_text
            FROM project_indicators WHERE project_id = \(id) ORDER BY position
            """
        ).decode((Int, String, String, String?, String?, String).self).map {
            Project.Indicator(
                position: $0.0, challengeText: $0.1, direction: $0.2, challengeThreshold: $0.3.flatMap { Decimal(string: $0) },
                target: $0.4.flatMap { Decimal(string: $0) }, targetText: $0.5)
        }
        let milestones = try await db.query(
            """
            SELECT id, position, title, to_char(due_on, 'YYYY-MM-DD'), deliverables, status
            FROM milestones WHERE project_id = \(id) ORDER BY position
            """
        ).decode((Int, Int, String, String, String, String).self).map {
            Project.Milestone(id: $0.0, position: $0.1, title: $0.2, dueOn: $0.3, deliverables: $0.4, status: $0.5)
        }
        let tranches = try await db.query(
            "SELECT id, milestone_id, amount_fen, status, paid_at, post_subsidy FROM tranches WHERE project_id = \(id) ORDER BY id"
        ).decode((Int, Int?, Int, String, Date?, Bool).self).map {
            Project.Tranche(id: $0.0, milestoneID: $0.1, amountFen: $0.2, status: $0.3, paidAt: $0.4, postSubsidy: $0.5)
        }
        return Project(
            id: try row.decode(Int.self, at: 0), bidID: try row.decode(Int.self, at: 1), challengeID: try row.decode(Int.self, at: 2),
            programmeID: try row.decode(Int.self, at: 3), leadUnitID: try row.decode(Int.self, at: 4),
            regionCode: try row.decode(String.self, at: 5),
            status: ProjectStatus(rawValue: try row.decode(String.self, at: 6)) ?? .executing,
            awardFen: try row.decode(Int.self, at: 7), paidFen: try row.decode(Int.self, at: 8),
            completionDeadline: try row.decode(String.self, at: 9), originalCompletionDeadline: try row.decode(String.self, at: 10),
            stoppedReason: try row.decode(String?.self, at: 11), indicators: indicators, milestones: milestones, tranches: tranches,
            revision: try row.decode(Int.self, at: 12))
    }

    static func leadUnit(of projectID: Int, on db: PostgresConnection) async throws -> Int {
        guard let lead = try await db.query("SELECT lead_unit_id FROM projects WHERE id = \(projectID)").first?.decode(Int.self) else {
            throw DomainError.notFound("there is no project \(projectID)")
        }
        return lead
    }

    /// Requires a publisher of the project's programme; another bureau's publisher is told `missing` (by default, that
    /// the project does not exist).
    static func requirePublisher(of projectID: Int, _ actor: Actor, missing: String? = nil, on db: PostgresConnection) async throws {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "manage projects")
        guard
            let bureau = try await db.query(
                "SELECT g.bureau_id FROM projects p JOIN programmes g ON g.id = p.programme_id WHERE p.id = \(projectID)"
            ).first?.decode(Int.self)
        else { throw DomainError.notFound("there is no project \(projectID)") }
        try AccessPolicy.requireManager(
            ofBureau: bureau, actor, missing: missing ?? "there is no project \(projectID)",
            reason: "only the programme's publisher manages its projects")
    }
}

extension ProjectStatus {
    /// `applying(action)`, refused as a 409.
    func applyingOrConflict(_ action: Action) throws -> ProjectStatus {
        do {
            return try applying(action)
        } catch {
            throw DomainError.conflict(field: nil, message: error.description)
        }
    }
}

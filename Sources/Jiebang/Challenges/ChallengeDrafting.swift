public import Foundation
public import Postgres

/// A programme's bureau drafts, edits, publishes and amends its challenges.
public enum ChallengeDrafting {
    /// A challenge as its publisher sends it.
    public struct Input: Codable, Sendable, Hashable {
        public var title: String
        /// 攻关任务.
        public var task: String
        /// 攻关内容.
        public var content: String
        /// Measurable indicators (考核指标), one per entry.
        public var indicators: [String]
        /// core_basic 核心基础, key_product 重点产品, public_support 公共支撑, demonstration 示范应用.
        public var category: String
        public var domain: String
        public var industryChain: String
        public var applicationDeadline: Date
        /// 时限要求: the date the work must be finished, `YYYY-MM-DD`.
        public var completionDeadline: String
        public var fundingCeilingFen: Int64
        /// Winners (more than one for 赛马制). Default: the programme's.
        public var winners: Int?
        /// The demands the challenge was condensed from.
        public var demandIDs: [Int]?

        public init(
            title: String, task: String, content: String, indicators: [String], category: String, domain: String,
            industryChain: String, applicationDeadline: Date, completionDeadline: String, fundingCeilingFen: Int64,
            winners: Int? = nil, demandIDs: [Int]? = nil
        ) {
            self.title = title
            self.task = task
            self.content = content
            self.indicators = indicators
            self.category = category
            self.domain = domain
            self.industryChain = industryChain
            self.applicationDeadline = applicationDeadline
            self.completionDeadline = completionDeadline
            self.fundingCeilingFen = fundingCeilingFen
            self.winners = winners
            self.demandIDs = demandIDs
        }

        /// The categories of seed 002.
        public static let categories = ["core_basic", "key_product", "public_support", "demonstration"]

        /// The input trimmed, checked against its programme.
        /// - Throws: `DomainError.invalid` listing every field at fault.
        public func checked(for programme: ProgrammeStore.Programme) throws(DomainError) -> Input {
            var result = self
            result.title = title.trimmingCharacters(in: .whitespacesAndNewlines)
            result.task = task.trimmingCharacters(in: .whitespacesAndNewlines)
            result.content = content.trimmingCharacters(in: .whitespacesAndNewlines)
            result.indicators = indicators.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            result.domain = domain.trimmingCharacters(in: .whitespacesAndNewlines)
            result.industryChain = industryChain.trimmingCharacters(in: .whitespacesAndNewlines)
            result.winners = winners ?? programme.winnersPerChallenge
            result.demandIDs = Array(Set(demandIDs ?? [])).sorted()
            var checker = FieldChecker()
            checker.name("title", title, 4...200)
            checker.length("task", task, 4...2000)
            checker.length("content", content, 4...20000)
            if !(1...50).contains(indicators.count) { checker.add("indicators", "must list 1 to 50 indicators") }
            for (index, indicator) in result.indicators.enumerated() {
                checker.length("indicators[\(index)]", indicator, 1...500)
            }
            if !Self.categories.contains(category) {
                checker.add("category", "must be one of \(Self.categories.joined(separator: ", "))")
            }
            checker.name("domain", domain, 2...50)
            checker.name("industryChain", industryChain, 2...50)
            if applicationDeadline > programme.applicationClosesAt {
                checker.add("applicationDeadline", "must not be after the programme's window closes")
            }
            if let completion = Self.calendarDate(completionDeadline) {
                if completion <= Self.shanghaiDay(of: applicationDeadline) {
                    checker.add("completionDeadline", "must be after the application deadline's date")
                }
            } else {
                checker.add("completionDeadline", "must be a date written YYYY-MM-DD")
            }
            if fundingCeilingFen <= 0 {
                checker.add("fundingCeilingFen", "must be positive")
            } else if fundingCeilingFen > programme.fundingAbsoluteCapFen {
                checker.add(
                    "fundingCeilingFen", "must not exceed the programme's absolute cap of \(programme.fundingAbsoluteCapFen) fen")
            }
            checker.range("winners", result.winners!, 1...20)
            if result.demandIDs!.contains(where: { $0 <= 0 }) { checker.add("demandIDs", "must be demands' ids") }
            try checker.check()
            return result
        }

        /// `YYYY-MM-DD` as the number of the day, comparable with `shanghaiDay(of:)`.
        static func calendarDate(_ text: String) -> Int? {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
                (1...12).contains(m), (1...31).contains(d), (2000...2200).contains(y)
            else { return nil }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            guard let date = calendar.date(from: DateComponents(year: y, month: m, day: d)),
                calendar.component(.day, from: date) == d
            else { return nil }
            return y * 10_000 + m * 100 + d
        }

        /// The calendar day of `date` in Asia/Shanghai, as yyyymmdd.
        static func shanghaiDay(of date: Date) -> Int {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
            let c = calendar.dateComponents([.year, .month, .day], from: date)
            return c.year! * 10_000 + c.month! * 100 + c.day!
        }
    }

    /// A challenge as its publisher sees it, drafts included.
    public struct Challenge: Codable, Sendable, Hashable {
        public var id: Int
        /// Bumped by every edit: the ETag.
        public var revision: Int
        /// Bumped by every published amendment.
        public var version: Int
        public var programmeID: Int
        public var status: ChallengeStatus
        public var title: String
        public var task: String
        public var content: String
        public var indicators: [String]
        public var category: String
        public var domain: String
        public var industryChain: String
        public var applicationDeadline: Date
        public var completionDeadline: String
        public var fundingCeilingFen: Int64
        public var winners: Int
        public var demandIDs: [Int]
        public var publishedAt: Date?
        public var createdAt: Date
        public var updatedAt: Date
    }

    /// Drafts a challenge in a programme of the actor's bureau.
    /// - Throws: `DomainError` (another bureau's programme, invalid fields, unknown demands).
    public static func create(
        programmeID: Int, _ input: Input, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Challenge {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "draft a challenge")
        let programme = try await ProgrammeStore.programme(id: programmeID, on: tx)
        try AccessPolicy.requireManager(
            ofBureau: programme.bureauID, actor, missing: "no programme has id \(programmeID)",
            reason: "only a publisher of \(programme.bureauName) may draft challenges in programme \(programmeID)")
        let input = try input.checked(for: programme)
        return try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO challenges (programme_id, title, task, content, indicators, category, domain, industry_chain,
                                        application_deadline, completion_deadline, funding_ceiling_fen, winners)
                VALUES (\(programmeID), \(input.title), \(input.task), \(input.content), \(input.indicators),
                        \(input.category)::challenge_category, \(input.domain), \(input.industryChain),
                        \(input.applicationDeadline), \(input.completionDeadline)::date, \(input.fundingCeilingFen),
                        \(input.winners))
                RETURNING id
                """
            ).first!.decode(Int.self)
            try await linkDemands(challengeID: id, input.demandIDs ?? [], programmeID: programmeID, on: tx)
            let challenge = try await load(id: id, on: tx)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "challenge.create", entity: "challenge",
                entityID: "\(id)", after: snapshot(challenge), on: tx)
            return challenge
        }
    }

    /// A challenge, drafts included, for a publisher of its programme's bureau (or a system admin).
    /// - Throws: `DomainError.notFound` or `.forbidden`.
    public static func challenge(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> Challenge {
        let challenge = try await load(id: id, on: db)
        try await authorize(challenge, actor: actor, reading: true, on: db)
        return challenge
    }

    /// Replaces a draft's fields, if it is still at `revision`.
    /// - Throws: `DomainError.conflict` for a published challenge (amend it instead), `.stale`, `.forbidden`.
    public static func update(
        id: Int, _ input: Input, ifRevision revision: Int, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Challenge {
        let before = try await load(id: id, on: tx, lock: true)
        let programme = try await authorize(before, actor: actor, reading: false, on: tx)
        guard before.status == .draft else {
            throw DomainError.conflict(
                field: "status", message: "challenge \(id) is \(before.status.rawValue); change it with an amendment")
        }
        guard before.revision == revision else { throw DomainError.stale(current: before.revision) }
        let input = try input.checked(for: programme)
        return try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE challenges SET title = \(input.title), task = \(input.task), content = \(input.content),
                    indicators = \(input.indicators), category = \(input.category)::challenge_category, domain = \(input.domain),
                    industry_chain = \(input.industryChain), application_deadline = \(input.applicationDeadline),
                    completion_deadline = \(input.completionDeadline)::date, funding_ceiling_fen = \(input.fundingCeilingFen),
                    winners = \(input.winners)
                WHERE id = \(id)
                """)
            try await linkDemands(challengeID: id, input.demandIDs ?? [], programmeID: programme.id, on: tx)
            let after = try await load(id: id, on: tx)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "challenge.update", entity: "challenge",
                entityID: "\(id)", before: snapshot(before), after: snapshot(after), on: tx)
            return after
        }
    }

    /// Publishes a draft: it appears on the board and, from now on, changes only by amendment.
    /// - Parameters:
    ///   - revision: the revision the publisher reviewed (If-Match), if given.
    /// - Throws: `DomainError.conflict` when it is not a draft or its deadline has passed, `.stale`, `.forbidden`.
    public static func publish(
        id: Int, ifRevision revision: Int?, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Challenge {
        let before = try await load(id: id, on: tx, lock: true)
        try await authorize(before, actor: actor, reading: false, on: tx)
        if let revision, revision != before.revision { throw DomainError.stale(current: before.revision) }
        do {
            _ = try before.status.publishing(at: Date(), deadline: before.applicationDeadline)
        } catch {
            throw DomainError.conflict(field: "status", message: error.description)
        }
        if hasCandidateLines(before.content) { throw DomainError.invalid("content", candidateLinesMessage) }
        return try await ConstraintCatalog.translating {
            try await tx.execute("UPDATE challenges SET status = 'published', published_at = now() WHERE id = \(id)")
            let after = try await load(id: id, on: tx)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "challenge.publish", entity: "challenge",
                entityID: "\(id)", before: ["status": "draft"], after: ["status": "published"], on: tx)
            return after
        }
    }

    /// Amends a published challenge: the new fields, the next version, and the reason, visible to everyone.
    /// - Returns: the challenge after the amendment, and the fields it changed.
    /// - Throws: `DomainError` (not published, nothing changed, a deadline already past, `.stale`, `.forbidden`).
    public static func amend(
        id: Int, _ proposed: Input, reason: String, ifRevision revision: Int?, by actor: Actor, on tx: PostgresConnection
    ) async throws -> (challenge: Challenge, changes: [String: String]) {
        let before = try await load(id: id, on: tx, lock: true)
        let programme = try await authorize(before, actor: actor, reading: false, on: tx)
        if let revision, revision != before.revision { throw DomainError.stale(current: before.revision) }
        do {
            try before.status.amending()
        } catch {
            throw DomainError.conflict(field: "status", message: error.description)
        }
        var checker = FieldChecker()
        checker.length("reason", reason, 4...2000)
        let input: Input
        do {
            input = try proposed.checked(for: programme)
        } catch {
            guard case .invalid(let issues) = error else { throw error }
            for issue in issues { checker.add("challenge.\(issue.field)", issue.message) }
            try checker.check()
            throw error
        }
        if input.applicationDeadline != before.applicationDeadline, input.applicationDeadline <= Date() {
            checker.add("challenge.applicationDeadline", "a new application deadline must lie in the future")
        }
        if hasCandidateLines(input.content) { checker.add("challenge.content", candidateLinesMessage) }
        try checker.check()
        let changes = diff(before, input)
        guard !changes.isEmpty else { throw DomainError.invalid("challenge", "the amendment changes nothing") }
        return try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                INSERT INTO challenge_amendments (challenge_id, version, reason, changes, actor_id)
                VALUES (\(id), \(before.version + 1), \(reason.trimmingCharacters(in: .whitespacesAndNewlines)),
                        \(PostgresJSON(changes)), \(actor.userID))
                """)
            try await tx.execute(
                """
                UPDATE challenges SET title = \(input.title), task = \(input.task), content = \(input.content),
                    indicators = \(input.indicators), category = \(input.category)::challenge_category, domain = \(input.domain),
                    industry_chain = \(input.industryChain), application_deadline = \(input.applicationDeadline),
                    completion_deadline = \(input.completionDeadline)::date, funding_ceiling_fen = \(input.fundingCeilingFen),
                    winners = \(input.winners), version = \(before.version + 1)
                WHERE id = \(id)
                """)
            let after = try await load(id: id, on: tx)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "challenge.amend", entity: "challenge",
                entityID: "\(id)", before: snapshot(before), after: snapshot(after), on: tx)
            return (after, changes)
        }
    }

    /// The fields `input` changes, with their new values as text.
    static func diff(_ old: Challenge, _ new: Input) -> [String: String] {
        var changes: [String: String] = [:]
        func note(_ field: String, _ before: String, _ after: String) {
            if before != after { changes[field] = after }
        }
        note("title", old.title, new.title)
        note("task", old.task, new.task)
        note("content", old.content, new.content)
        note("indicators", old.indicators.joined(separator: "\n"), new.indicators.joined(separator: "\n"))
        note("category", old.category, new.category)
        note("domain", old.domain, new.domain)
        note("industryChain", old.industryChain, new.industryChain)
        if old.applicationDeadline != new.applicationDeadline {
            changes["applicationDeadline"] = new.applicationDeadline.formatted(.iso8601)
        }
        note("completionDeadline", old.completionDeadline, new.completionDeadline)
        note("fundingCeilingFen", "\(old.fundingCeilingFen)", "\(new.fundingCeilingFen)")
        note("winners", "\(old.winners)", "\(new.winners ?? old.winners)")
        return changes
    }

    /// Checks the actor manages the challenge's programme (or, for reading, is a system admin).
    @discardableResult
    static func authorize(
        _ challenge: Challenge, actor: Actor, reading: Bool, on db: PostgresConnection
    ) async throws -> ProgrammeStore.Programme {
        let programme = try await ProgrammeStore.programme(id: challenge.programmeID, on: db)
        let allowed =
            AccessPolicy.mayManageProgrammes(ofBureau: programme.bureauID, by: actor)
            || (reading && actor.role == .systemAdmin)
        guard allowed else {
            throw DomainError.refusal(
                of: actor, scopedRoles: [.provincialPublisher], missing: "no challenge has id \(challenge.id)",
                reason: "only a publisher of \(programme.bureauName) may manage challenge \(challenge.id)")
        }
        return programme
    }

    /// Makes `demandIDs` the challenge's demands: links to others are removed, links it has stay, and each demand
    /// added must be of the programme (or of none) and open (a closed or lapsed one has left the pool; the
    /// `challenge_demands_demand_open` trigger holds the same rule).
    static func linkDemands(challengeID: Int, _ demandIDs: [Int], programmeID: Int, on tx: PostgresConnection) async throws {
        try await tx.execute(
            "DELETE FROM challenge_demands WHERE challenge_id = \(challengeID) AND demand_id <> ALL (\(demandIDs)::bigint[])")
        let kept = try await tx.query("SELECT demand_id FROM challenge_demands WHERE challenge_id = \(challengeID)").decode(Int.self)
        let added = Array(Set(demandIDs).subtracting(kept)).sorted()
        guard !added.isEmpty else { return }
        // FOR SHARE: a demand closed meanwhile waits for this transaction, so it is never linked once closed.
        let found = try await tx.query(
            """
            SELECT id, status FROM demands
            WHERE id = ANY (\(added)) AND (programme_id IS NULL OR programme_id = \(programmeID))
            ORDER BY id FOR SHARE
            """
        ).decode((Int, String).self)
        let missing = Set(added).subtracting(found.map(\.0)).sorted()
        guard missing.isEmpty else {
            throw DomainError.invalid(
                "demandIDs", "no demand of this programme has id \(missing.map(String.init).joined(separator: ", "))")
        }
        let gone = found.filter { $0.1 != "open" }
        guard gone.isEmpty else {
            let named = gone.map { "\($0.0) is \($0.1)" }.joined(separator: ", ")
            throw DomainError.invalid("demandIDs", "demand \(named); only an open demand may be attached to a challenge")
        }
        try await tx.execute(
            "INSERT INTO challenge_demands (challenge_id, demand_id) SELECT \(challengeID), unnest(\(added)::bigint[])")
    }

    static func load(id: Int, on db: PostgresConnection, lock: Bool = false) async throws -> Challenge {
        let rows =
            lock
            ? try await db.query("\(unsafeRaw: select) WHERE c.id = \(id) FOR UPDATE OF c")
            : try await db.query("\(unsafeRaw: select) WHERE c.id = \(id)")
        guard let row = rows.first else { throw DomainError.notFound("no challenge has id \(id)") }
        return Challenge(
            id: try row.decode(Int.self, at: 0), revision: try row.decode(Int.self, at: 1),
            version: try row.decode(Int.self, at: 2), programmeID: try row.decode(Int.self, at: 3),
            status: ChallengeStatus(rawValue: try row.decode(String.self, at: 4)) ?? .draft,
            title: try row.decode(String.self, at: 5), task: try row.decode(String.self, at: 6),
            content: try row.decode(String.self, at: 7), indicators: try row.decode([String].self, at: 8),
            category: try row.decode(String.self, at: 9), domain: try row.decode(String.self, at: 10),
            industryChain: try row.decode(String.self, at: 11), applicationDeadline: try row.decode(Date.self, at: 12),
            completionDeadline: try row.decode(String.self, at: 13), fundingCeilingFen: try row.decode(Int64.self, at: 14),
            winners: try row.decode(Int.self, at: 15), demandIDs: try row.decode([Int].self, at: 16),
            publishedAt: try row.decode(Date?.self, at: 17), createdAt: try row.decode(Date.self, at: 18),
            updatedAt: try row.decode(Date.self, at: 19))
    }

    static let select = """
        SELECT c.id, c.revision, c.version, c.programme_id, c.status::text, c.title, c.task, c.content, c.indicators,
               c.category::text, c.domain, c.industry_chain, c.application_deadline,
               to_char(c.completion_deadline, 'YYYY-MM-DD'), c.funding_ceiling_fen, c.winners,
               ARRAY(SELECT demand_id FROM challenge_demands WHERE challenge_id = c.id ORDER BY demand_id),
               c.published_at, c.created_at, c.updated_at
        FROM challenges c
        """

    static func snapshot(_ c: Challenge) -> [String: String] {
        [
            "status": c.status.rawValue, "version": "\(c.version)", "title": c.title, "category": c.category,
            "domain": c.domain, "industryChain": c.industryChain,
            "applicationDeadline": c.applicationDeadline.formatted(.iso8601), "completionDeadline": c.completionDeadline,
            "fundingCeilingFen": "\(c.fundingCeilingFen)", "winners": "\(c.winners)",
            "indicators": c.indicators.joined(separator: "\n"),
        ]
    }
}

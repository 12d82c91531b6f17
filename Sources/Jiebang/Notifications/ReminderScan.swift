public import Foundation
public import Postgres

/// A reminder scan: finds who must be told what as of a moment, and writes each notification once.
///
/// A scan does not look for deadlines exactly N days ahead but for those within the window of each
/// occasion, so a scan that runs late (after an outage) still sends what is due, and one that runs
/// twice, or on two machines at once, sends nothing twice (`notifications_once`).
public enum ReminderScan: String, Sendable, CaseIterable {
    /// Application deadlines: seven days ahead (T−7, while more than a day is left) and one day ahead
    /// (T−1), to every user of a lead unit with a draft or returned bid on the challenge.
    case applicationDeadlines = "application-deadlines"
    /// Scoring deadlines of assigned review rounds: three days ahead (T−3, while more than a day is left),
    /// one day ahead (T−1) and once overdue (the round not yet closed), to every expert with an active
    /// panel seat whose score is not submitted.
    case reviewDeadlines = "review-deadlines"
    /// Yearly progress reports, due by 10 December (seed 002 §四): from 1 December, and once late from 11
    /// December, to every municipal recommender of a city with executing projects whose report for the
    /// year is missing (Asia/Shanghai dates).
    case progressReports = "progress-reports"
    /// Projects past their completion date (Asia/Shanghai) still executing without an acceptance request:
    /// flagged once (`projects.acceptance_overdue_at`) and their lead unit's admins told once.
    case acceptanceOverdue = "acceptance-overdue"
    /// Milestones of executing projects not yet submitted: seven days before their due date and once
    /// after it (the due date's end, Asia/Shanghai), to the lead unit's admins and members.
    case milestones = "milestones"
    /// Recommendation windows (组织推荐): from three days before a programme's `recommendationClosesAt`,
    /// to every municipal recommender of a city with submitted bids not yet decided.
    case recommendations = "recommendations"
    /// The demand pool's half-yearly refresh (seed 004): thirty days before an open demand lapses (six months after it
    /// was last confirmed) its unit's admins and members are reminded; then it lapses, once, and they are told.
    case demandRefresh = "demand-refresh"

    /// What a scan did.
    public struct Outcome: Sendable, Hashable, CustomStringConvertible {
        /// Notifications written by this run.
        public var created: Int
        /// Notifications due that an earlier (or concurrent) run had written.
        public var alreadySent: Int
        /// Notifications due that their recipients muted.
        public var muted: Int

        /// Creates an outcome.
        public init(created: Int, alreadySent: Int, muted: Int) {
            self.created = created
            self.alreadySent = alreadySent
            self.muted = muted
        }

        public var description: String { "created \(created), already sent \(alreadySent), muted \(muted)" }
    }

    /// The notifications a scan found due: those to write, and how many were already sent or muted.
    struct Batch {
        var messages: [NotificationStore.Message] = []
        var sent = 0
        var muted = 0

        /// Whether a due notification is to be written; counts it as already sent or muted otherwise.
        mutating func admits(alreadySent: Bool, muted isMuted: Bool) -> Bool {
            if alreadySent {
                sent += 1
                return false
            }
            if isMuted {
                muted += 1
                return false
            }
            return true
        }

        /// Writes the messages (each once: a concurrent scan may have written some) and says what happened.
        func send(on tx: PostgresConnection) async throws -> Outcome {
            let created = try await NotificationStore.send(messages, on: tx)
            return Outcome(created: created, alreadySent: sent + messages.count - created, muted: muted)
        }
    }

    /// What the scan is for, on one line.
    public var summary: String {
        switch self {
        case .applicationDeadlines:
            "remind units with draft or returned bids 7 days and 1 day before a challenge's application deadline"
        case .reviewDeadlines:
            "remind experts with unsubmitted scores 3 days and 1 day before a round's scoring deadline, and once overdue"
        case .progressReports:
            "remind recommenders from 1 December of projects whose yearly progress report is missing, and once late after 10 December"
        case .acceptanceOverdue:
            "flag projects past their completion date without an acceptance request, and tell their lead unit's admins once"
        case .milestones:
            "remind lead units 7 days before a milestone is due while it is not submitted, and once when it is overdue"
        case .recommendations:
            "remind recommenders 3 days before a programme's recommendation window closes while their city has undecided bids"
        case .demandRefresh:
            "remind units 30 days before a demand lapses unconfirmed after half a year, then lapse it and tell them once"
        }
    }

    /// Runs the scan as of `now` in the caller's transaction.
    public func run(at now: Date, on tx: PostgresConnection) async throws -> Outcome {
        // The scans are short OLTP statements: JIT compilation (which a large table's cost estimates switch
        // on) cost more than the scan itself at a million deadlines (Benchmarks/ReminderBenchmark).
        try await tx.execute("SET LOCAL jit = off")
        return switch self {
        case .applicationDeadlines: try await Self.applicationDeadlines(at: now, on: tx)
        case .reviewDeadlines: try await Self.reviewDeadlines(at: now, on: tx)
        case .progressReports: try await Self.progressReports(at: now, on: tx)
        case .acceptanceOverdue: try await Self.acceptanceOverdue(at: now, on: tx)
        case .milestones: try await Self.milestones(at: now, on: tx)
        case .recommendations: try await Self.recommendations(at: now, on: tx)
        case .demandRefresh: try await Self.demandRefresh(at: now, on: tx)
        }
    }

    static func applicationDeadlines(at now: Date, on tx: PostgresConnection) async throws -> Outcome {
        let rows = try await tx.query(
            // MATERIALIZED: the due challenges come from the deadline index alone, so the scan follows the number
            // due. Inlined, the planner merged them with the bids in id order and read every challenge
            // (Benchmarks/ReminderBenchmark).
            """
            WITH due AS MATERIALIZED (
                SELECT id, title, application_deadline,
                       CASE WHEN application_deadline <= \(now)::timestamptz + interval '1 day'
                            THEN 'application_deadline.t1' ELSE 'application_deadline.t7' END AS occasion
                FROM challenges
                WHERE status = 'published' AND application_deadline > \(now)::timestamptz
                  AND application_deadline <= \(now)::timestamptz + interval '7 days'
            )
            SELECT DISTINCT ON (u.id, d.id) u.id, d.id, d.title, d.application_deadline, d.occasion,
                   EXISTS (SELECT 1 FROM notifications n
                           WHERE n.user_id = u.id AND n.occasion = d.occasion AND n.subject = 'challenge:' || d.id),
                   EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = u.id AND m.occasion = d.occasion)
            FROM due d
            JOIN bids b ON b.challenge_id = d.id AND b.status IN ('draft', 'returned')
            JOIN users u ON u.unit_id = b.lead_unit_id AND u.role IN ('unit_admin', 'unit_member') AND u.disabled_at IS NULL
            ORDER BY u.id, d.id
            """)
        var batch = Batch()
        for row in rows {
            let (userID, challengeID, title, deadline, occasionName, alreadySent, isMuted) =
                try row.decode((Int, Int, String, Date, String, Bool, Bool).self)
            guard batch.admits(alreadySent: alreadySent, muted: isMuted) else { continue }
            let occasion = Occasion(rawValue: occasionName) ?? .applicationDeadlineDay
            let values = [
                "challenge": title, "deadline": Shanghai.text(deadline),
                "days": String(Shanghai.days(from: now, to: deadline)), "when": Shanghai.relativeDay(from: now, to: deadline),
            ]
            let (subjectTitle, body) = try NotificationTemplate.of(occasion).render(values)
            batch.messages.append(
                NotificationStore.Message(
                    userID: userID, occasion: occasion, subject: "challenge:\(challengeID)", title: subjectTitle, body: body,
                    link: "/v1/board/challenges/\(challengeID)"))
        }
        return try await batch.send(on: tx)
    }

    static func reviewDeadlines(at now: Date, on tx: PostgresConnection) async throws -> Outcome {
        let rows = try await tx.query(
            """
            WITH due AS MATERIALIZED (
                SELECT id, name, scoring_deadline,
                       CASE WHEN scoring_deadline <= \(now)::timestamptz THEN 'review.overdue'
                            WHEN scoring_deadline <= \(now)::timestamptz + interval '1 day' THEN 'review.due.t1'
                            ELSE 'review.due.t3' END AS occasion
                FROM review_rounds
                WHERE status = 'assigned' AND scoring_deadline <= \(now)::timestamptz + interval '3 days'
            )
            SELECT a.expert_id, d.id, d.name, d.scoring_deadline, d.occasion, count(*),
                   EXISTS (SELECT 1 FROM notifications n
                           WHERE n.user_id = a.expert_id AND n.occasion = d.occasion AND n.subject = 'review_round:' || d.id),
                   EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = a.expert_id AND m.occasion = d.occasion)
            FROM due d
            JOIN review_assignments a ON a.round_id = d.id AND a.status = 'active' AND a.role = 'panel'
            JOIN users u ON u.id = a.expert_id AND u.disabled_at IS NULL
            WHERE NOT EXISTS (SELECT 1 FROM review_scores s WHERE s.assignment_id = a.id AND s.status = 'submitted')
            GROUP BY a.expert_id, d.id, d.name, d.scoring_deadline, d.occasion
            ORDER BY a.expert_id, d.id
            """)
        var batch = Batch()
        for row in rows {
            let (expertID, roundID, name, deadline, occasionName, count, alreadySent, isMuted) =
                try row.decode((Int, Int, String, Date, String, Int, Bool, Bool).self)
            guard batch.admits(alreadySent: alreadySent, muted: isMuted) else { continue }
            let occasion = Occasion(rawValue: occasionName) ?? .reviewOverdue
            let values = [
                "round": name, "count": String(count), "deadline": Shanghai.text(deadline),
                "when": Shanghai.relativeDay(from: now, to: deadline),
            ]
            let (title, body) = try NotificationTemplate.of(occasion).render(values)
            batch.messages.append(
                NotificationStore.Message(
                    userID: expertID, occasion: occasion, subject: "review_round:\(roundID)", title: title, body: body,
                    link: "/v1/expert/assignments"))
        }
        return try await batch.send(on: tx)
    }

    static func progressReports(at now: Date, on tx: PostgresConnection) async throws -> Outcome {
        let today = Shanghai.calendar.dateComponents([.year, .month, .day], from: now)
        guard let year = today.year, today.month == 12, let day = today.day,
            let deadline = Shanghai.calendar.date(from: DateComponents(year: year, month: 12, day: 11))
        else { return Outcome(created: 0, alreadySent: 0, muted: 0) }
        let occasion: Occasion = day <= 10 ? .progressReportDue : .progressReportOverdue
        let rows = try await tx.query(
            """
            SELECT u.id, p.region_code, count(*),
                   EXISTS (SELECT 1 FROM notifications n
                           WHERE n.user_id = u.id AND n.occasion = \(occasion.rawValue)
                             AND n.subject = 'progress_reports:' || \(year) || ':' || p.region_code),
                   EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = u.id AND m.occasion = \(occasion.rawValue))
            FROM projects p
            JOIN bureaus b ON b.region_code = p.region_code AND b.level = 'municipal'
            JOIN users u ON u.bureau_id = b.id AND u.role = 'municipal_recommender' AND u.disabled_at IS NULL
            WHERE p.status = 'executing' AND p.created_at < \(deadline)
              AND NOT EXISTS (SELECT 1 FROM progress_reports r WHERE r.project_id = p.id AND r.year = \(year))
            GROUP BY u.id, p.region_code
            ORDER BY u.id, p.region_code
            """)
        var batch = Batch()
        for row in rows {
            let (userID, region, count, alreadySent, isMuted) = try row.decode((Int, String, Int, Bool, Bool).self)
            guard batch.admits(alreadySent: alreadySent, muted: isMuted) else { continue }
            let values = ["year": String(year), "count": String(count), "deadline": Shanghai.text(deadline)]
            let (title, body) = try NotificationTemplate.of(occasion).render(values)
            batch.messages.append(
                NotificationStore.Message(
                    userID: userID, occasion: occasion, subject: "progress_reports:\(year):\(region)", title: title, body: body,
                    link: nil))
        }
        return try await batch.send(on: tx)
    }

    static func acceptanceOverdue(at now: Date, on tx: PostgresConnection) async throws -> Outcome {
        let today = Shanghai.calendar.dateComponents([.year, .month, .day], from: now)
        let date = String(format: "%04d-%02d-%02d", today.year ?? 2000, today.month ?? 1, today.day ?? 1)
        try await tx.execute(
            """
            UPDATE projects SET acceptance_overdue_at = \(now)
            WHERE status = 'executing' AND completion_deadline < \(date)::date AND acceptance_overdue_at IS NULL
            """)
        let rows = try await tx.query(
            """
            SELECT u.id, p.id, c.title, to_char(p.completion_deadline, 'YYYY-MM-DD'),
                   EXISTS (SELECT 1 FROM notifications n
                           WHERE n.user_id = u.id AND n.occasion = 'acceptance.overdue' AND n.subject = 'project:' || p.id),
                   EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = u.id AND m.occasion = 'acceptance.overdue')
            FROM projects p
            JOIN challenges c ON c.id = p.challenge_id
            JOIN users u ON u.unit_id = p.lead_unit_id AND u.role = 'unit_admin' AND u.disabled_at IS NULL
            WHERE p.status = 'executing' AND p.completion_deadline < \(date)::date
            ORDER BY u.id, p.id
            """)
        var batch = Batch()
        for row in rows {
            let (userID, projectID, title, deadline, alreadySent, isMuted) = try row.decode((Int, Int, String, String, Bool, Bool).self)
            guard batch.admits(alreadySent: alreadySent, muted: isMuted) else { continue }
            let (subject, body) = try NotificationTemplate.of(.acceptanceOverdue).render(["challenge": title, "deadline": deadline])
            batch.messages.append(
                NotificationStore.Message(
                    userID: userID, occasion: .acceptanceOverdue, subject: "project:\(projectID)", title: subject, body: body,
                    link: "/v1/projects/\(projectID)"))
        }
        return try await batch.send(on: tx)
    }

    static func demandRefresh(at now: Date, on tx: PostgresConnection) async throws -> Outcome {
        // Lapse what is due, once: by the earlier of the scan's clock and the server's, which the transition
        // trigger checks (definitions/21_demand_refresh.sql).
        try await tx.execute(
            """
            UPDATE demands SET status = 'lapsed', lapsed_at = \(now)
            WHERE status = 'open' AND confirmed_at + interval '6 months' <= least(\(now)::timestamptz, now())
            """)
        // Each half year of a demand is its own subject, so a demand confirmed again is reminded again next time.
        let rows = try await tx.query(
            """
            WITH due AS MATERIALIZED (
                SELECT id, unit_id, industry_chain, need, confirmed_at, confirmed_at + interval '6 months' AS deadline,
                       CASE WHEN status = 'lapsed' THEN 'demand.lapsed' ELSE 'demand.refresh_due' END AS occasion
                FROM demands
                WHERE (status = 'open' AND confirmed_at + interval '6 months' - interval '30 days' <= \(now)::timestamptz)
                   OR (status = 'lapsed' AND lapsed_at > \(now)::timestamptz - interval '30 days')
            )
            SELECT u.id, d.id, d.industry_chain, d.need, d.confirmed_at, d.deadline, d.occasion,
                   EXISTS (SELECT 1 FROM notifications n
                           WHERE n.user_id = u.id AND n.occasion = d.occasion
                             AND n.subject = 'demand:' || d.id || '@' || to_char(d.confirmed_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS')),
                   EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = u.id AND m.occasion = d.occasion)
            FROM due d
            JOIN users u ON u.unit_id = d.unit_id AND u.role IN ('unit_admin', 'unit_member') AND u.disabled_at IS NULL
            ORDER BY u.id, d.id
            """)
        var batch = Batch()
        let stamp = DateFormatter()
        stamp.locale = Locale(identifier: "en_US_POSIX")
        stamp.timeZone = TimeZone(identifier: "UTC")
        stamp.dateFormat = "yyyyMMddHHmmss"
        for row in rows {
            let (userID, demandID, chain, need, confirmed, deadline, occasionName, alreadySent, isMuted) =
                try row.decode((Int, Int, String, String, Date, Date, String, Bool, Bool).self)
            guard batch.admits(alreadySent: alreadySent, muted: isMuted) else { continue }
            let occasion = Occasion(rawValue: occasionName) ?? .demandRefreshDue
            let excerpt = need.count > 40 ? String(need.prefix(40)) + "…" : need
            let values = [
                "chain": chain, "need": excerpt, "confirmed": Shanghai.text(confirmed), "deadline": Shanghai.text(deadline),
                "when": Shanghai.relativeDay(from: now, to: deadline),
            ]
            let (title, body) = try NotificationTemplate.of(occasion).render(values)
            batch.messages.append(
                NotificationStore.Message(
                    userID: userID, occasion: occasion, subject: "demand:\(demandID)@\(stamp.string(from: confirmed))", title: title,
                    body: body, link: "/v1/demands/\(demandID)"))
        }
        return try await batch.send(on: tx)
    }

    static func milestones(at now: Date, on tx: PostgresConnection) async throws -> Outcome {
        // A milestone is due at the end of its due date in Asia/Shanghai.
        let rows = try await tx.query(
            """
            WITH due AS MATERIALIZED (
                SELECT m.id, m.position, m.title, p.id AS project, p.lead_unit_id,
                       ((m.due_on + 1)::timestamp AT TIME ZONE 'Asia/Shanghai') AS deadline
                FROM milestones m JOIN projects p ON p.id = m.project_id
                WHERE m.status IN ('planned', 'rejected') AND p.status = 'executing'
                  AND m.due_on <= (\(now)::timestamptz AT TIME ZONE 'Asia/Shanghai')::date + 7
            )
            SELECT u.id, d.id, d.position, d.title, d.project, d.deadline,
                   CASE WHEN d.deadline <= \(now)::timestamptz THEN 'milestone.overdue' ELSE 'milestone.due' END AS occasion,
                   EXISTS (SELECT 1 FROM notifications n
                           WHERE n.user_id = u.id AND n.subject = 'milestone:' || d.id
                             AND n.occasion = CASE WHEN d.deadline <= \(now)::timestamptz THEN 'milestone.overdue' ELSE 'milestone.due' END),
                   EXISTS (SELECT 1 FROM notification_mutes m
                           WHERE m.user_id = u.id
                             AND m.occasion = CASE WHEN d.deadline <= \(now)::timestamptz THEN 'milestone.overdue' ELSE 'milestone.due' END)
            FROM due d
            JOIN users u ON u.unit_id = d.lead_unit_id AND u.role IN ('unit_admin', 'unit_member') AND u.disabled_at IS NULL
            ORDER BY u.id, d.id
            """)
        var batch = Batch()
        for row in rows {
            let (userID, milestoneID, position, title, projectID, deadline, occasionName, alreadySent, isMuted) =
                try row.decode((Int, Int, Int, String, Int, Date, String, Bool, Bool).self)
            guard batch.admits(alreadySent: alreadySent, muted: isMuted) else { continue }
            let occasion = Occasion(rawValue: occasionName) ?? .milestoneOverdue
            let values = [
                "milestone": title, "position": String(position), "deadline": Shanghai.text(deadline),
                "when": Shanghai.relativeDay(from: now, to: deadline),
            ]
            let (subject, body) = try NotificationTemplate.of(occasion).render(values)
            batch.messages.append(
                NotificationStore.Message(
                    userID: userID, occasion: occasion, subject: "milestone:\(milestoneID)", title: subject, body: body,
                    link: "/v1/projects/\(projectID)"))
        }
        return try await batch.send(on: tx)
    }

    static func recommendations(at now: Date, on tx: PostgresConnection) async throws -> Outcome {
        let rows = try await tx.query(
            """
            SELECT u.id, g.id, g.name, g.recommendation_closes_at, b.region_code, count(*),
                   EXISTS (SELECT 1 FROM notifications n
                           WHERE n.user_id = u.id AND n.occasion = 'recommendation.due'
                             AND n.subject = 'recommendations:' || g.id || ':' || b.region_code),
                   EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = u.id AND m.occasion = 'recommendation.due')
            FROM programmes g
            JOIN bids b ON b.programme_id = g.id AND b.status = 'submitted'
            JOIN bureaus r ON r.region_code = b.region_code AND r.level = 'municipal'
            JOIN users u ON u.bureau_id = r.id AND u.role = 'municipal_recommender' AND u.disabled_at IS NULL
            WHERE g.recommendation_closes_at > \(now)::timestamptz
              AND g.recommendation_closes_at <= \(now)::timestamptz + interval '3 days'
            GROUP BY u.id, g.id, g.name, g.recommendation_closes_at, b.region_code
            ORDER BY u.id, g.id
            """)
        var batch = Batch()
        for row in rows {
            let (userID, programmeID, name, deadline, region, count, alreadySent, isMuted) =
                try row.decode((Int, Int, String, Date, String, Int, Bool, Bool).self)
            guard batch.admits(alreadySent: alreadySent, muted: isMuted) else { continue }
            let values = [
                "programme": name, "count": String(count), "deadline": Shanghai.text(deadline),
                "when": Shanghai.relativeDay(from: now, to: deadline),
            ]
            let (title, body) = try NotificationTemplate.of(.recommendationDue).render(values)
            batch.messages.append(
                NotificationStore.Message(
                    userID: userID, occasion: .recommendationDue, subject: "recommendations:\(programmeID):\(region)", title: title,
                    body: body, link: "/v1/bids?status=submitted"))
        }
        return try await batch.send(on: tx)
    }
}

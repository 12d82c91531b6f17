public import Foundation
public import Postgres

/// What the publishing bureau watches of a programme: its bids by status, per challenge and per region, its
/// review's progress, and the score sheets past their deadline. Counts only: no bid's content.
public enum ProgrammeDashboard {
    /// A number under a name.
    public struct Count: Sendable, Hashable {
        /// What is counted: a status code, a region code.
        public var key: String
        /// Its name as people read it: the region's municipal bureau, for a region.
        public var name: String
        public var count: Int
    }

    /// One challenge's bids.
    public struct ChallengeBids: Sendable, Hashable {
        public var challengeID: Int
        public var title: String
        /// Bids submitted and not withdrawn (any state from submitted on).
        public var submitted: Int
        /// Of those, recommended by their municipal bureau (recommended or formally checked).
        public var recommended: Int
        /// Of those, through the formal check.
        public var formalPassed: Int
        /// Drafts not yet submitted.
        public var drafts: Int
    }

    /// The review's panel seats and their score sheets.
    public struct Review: Sendable, Hashable {
        /// Active panel seats in rounds that have left preparation.
        public var seats: Int
        /// Sheets submitted.
        public var submitted: Int
        /// Sheets saved as drafts.
        public var drafts: Int
        /// Seats not submitted whose round's scoring deadline has passed while it is still open.
        public var overdue: Int
    }

    /// A score sheet past its deadline.
    public struct OverdueSheet: Sendable, Hashable {
        public var assignmentID: Int
        public var expertName: String
        public var challengeTitle: String
        public var leadUnitName: String
        public var deadline: Date
    }

    /// Everything the dashboard shows.
    public struct Figures: Sendable, Hashable {
        public var programme: ProgrammeStore.Programme
        /// Bids by status, every status listed (zero included), in the life's order.
        public var byStatus: [Count]
        public var byChallenge: [ChallengeBids]
        /// Submitted bids (not withdrawn) by the lead's region.
        public var byRegion: [Count]
        public var review: Review
        /// At most 50, the longest overdue first.
        public var overdue: [OverdueSheet]
    }

    /// The statuses in the order a bid lives them.
    public static let statusOrder: [BidStatus] = [
        .draft, .submitted, .returned, .recommended, .declined, .withdrawn, .formalPassed, .formalFailed,
    ]

    /// The statuses of a bid that has been submitted and stays in the competition's books.
    static let submittedStatuses = ["submitted", "returned", "recommended", "declined", "formal_passed", "formal_failed"]

    /// The figures of programme `programmeID`.
    /// - Throws: `DomainError.forbidden` for anyone but a publisher or a system admin; `.notFound` for a
    ///   programme that does not exist or that another bureau runs (it is not revealed).
    public static func figures(programmeID: Int, by actor: Actor, on db: PostgresConnection) async throws -> Figures {
        try AccessPolicy.require(actor, [.provincialPublisher, .systemAdmin], to: "see a programme's dashboard")
        let programme: ProgrammeStore.Programme
        do {
            programme = try await ProgrammeStore.programme(id: programmeID, on: db)
        } catch DomainError.notFound {
            throw DomainError.notFound("no programme of yours has id \(programmeID)")
        }
        guard actor.role == .systemAdmin || AccessPolicy.mayManageProgrammes(ofBureau: programme.bureauID, by: actor) else {
            throw DomainError.notFound("no programme of yours has id \(programmeID)")
        }
        let counted = Dictionary(
            uniqueKeysWithValues: try await db.query(
                "SELECT status::text, count(*) FROM bids WHERE programme_id = \(programmeID) GROUP BY status"
            ).map { try $0.decode((String, Int).self) })
        let byStatus = statusOrder.map { Count(key: $0.rawValue, name: $0.rawValue, count: counted[$0.rawValue] ?? 0) }
        let byChallenge = try await db.query(
            """
            SELECT c.id, c.title,
                   count(b.id) FILTER (WHERE b.status::text = ANY (\(submittedStatuses))),
                   count(b.id) FILTER (WHERE b.status IN ('recommended', 'formal_passed', 'formal_failed')),
                   count(b.id) FILTER (WHERE b.status = 'formal_passed'),
                   count(b.id) FILTER (WHERE b.status = 'draft')
            FROM challenges c LEFT JOIN bids b ON b.challenge_id = c.id
            WHERE c.programme_id = \(programmeID) AND c.status <> 'draft'
            GROUP BY c.id ORDER BY c.application_deadline, c.id
            """
        ).map { row in
            let (id, title, submitted, recommended, passed, drafts) = try row.decode((Int, String, Int, Int, Int, Int).self)
            return ChallengeBids(
                challengeID: id, title: title, submitted: submitted, recommended: recommended, formalPassed: passed, drafts: drafts)
        }
        let byRegion = try await db.query(
            """
            SELECT b.region_code,
                   COALESCE((SELECT min(m.name) FROM bureaus m WHERE m.region_code = b.region_code AND m.level = 'municipal'),
                            b.region_code),
                   count(*)
            FROM bids b
            WHERE b.programme_id = \(programmeID) AND b.status::text = ANY (\(submittedStatuses))
            GROUP BY b.region_code ORDER BY count(*) DESC, b.region_code
            """
        ).map { row in
            let (code, name, count) = try row.decode((String, String, Int).self)
            return Count(key: code, name: name, count: count)
        }
        let reviewRow = try await db.query(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE s.status = 'submitted'),
                   count(*) FILTER (WHERE s.status = 'draft'),
                   count(*) FILTER (WHERE s.status IS DISTINCT FROM 'submitted' AND r.status = 'assigned' AND r.scoring_deadline < now())
            FROM review_assignments a
            JOIN review_rounds r ON r.id = a.round_id
            LEFT JOIN review_scores s ON s.assignment_id = a.id
            WHERE r.programme_id = \(programmeID) AND a.role = 'panel' AND a.status = 'active' AND r.status <> 'preparing'
            """
        ).first
        let (seats, submitted, drafts, overdueCount) = try reviewRow?.decode((Int, Int, Int, Int).self) ?? (0, 0, 0, 0)
        let overdue = try await db.query(
            """
            SELECT a.id, u.display_name, c.title, lu.name, r.scoring_deadline
            FROM review_assignments a
            JOIN review_rounds r ON r.id = a.round_id
            JOIN users u ON u.id = a.expert_id
            JOIN bids b ON b.id = a.bid_id
            JOIN challenges c ON c.id = b.challenge_id
            JOIN units lu ON lu.id = b.lead_unit_id
            LEFT JOIN review_scores s ON s.assignment_id = a.id
            WHERE r.programme_id = \(programmeID) AND a.role = 'panel' AND a.status = 'active' AND r.status = 'assigned'
              AND r.scoring_deadline < now() AND s.status IS DISTINCT FROM 'submitted'
            ORDER BY r.scoring_deadline, a.id
            LIMIT 50
            """
        ).map { row in
            let (id, expert, title, lead, deadline) = try row.decode((Int, String, String, String, Date).self)
            return OverdueSheet(assignmentID: id, expertName: expert, challengeTitle: title, leadUnitName: lead, deadline: deadline)
        }
        return Figures(
            programme: programme, byStatus: byStatus, byChallenge: byChallenge, byRegion: byRegion,
            review: Review(seats: seats, submitted: submitted, drafts: drafts, overdue: overdueCount), overdue: overdue)
    }

    /// The programmes the actor's bureau runs (all, for a system admin), newest first.
    public static func programmes(of actor: Actor, on db: PostgresConnection) async throws -> [ProgrammeStore.Programme] {
        try AccessPolicy.require(actor, [.provincialPublisher, .systemAdmin], to: "see programme dashboards")
        let all = try await ProgrammeStore.list(on: db)
        return actor.role == .systemAdmin ? all : all.filter { AccessPolicy.mayManageProgrammes(ofBureau: $0.bureauID, by: actor) }
    }
}

public import Foundation
public import Postgres

/// Challenges in PostgreSQL.
public enum ChallengeStore {
    /// A challenge as the public sees it, with its amendment history.
    public struct PublicChallenge: Sendable, Hashable {
        public var id: Int
        public var programmeID: Int
        public var programmeName: String
        public var title: String
        public var task: String
        public var content: String
        public var indicators: [String]
        public var category: String
        public var domain: String
        public var industryChain: String
        public var applicationDeadline: Date
        /// 时限要求, `YYYY-MM-DD`.
        public var completionDeadline: String
        public var fundingCeilingFen: Int64
        public var winners: Int
        public var status: ChallengeStatus
        public var version: Int
        public var publishedAt: Date?
        public var demandIDs: [Int]
        public var amendments: [Amendment]
    }

    /// One published change.
    public struct Amendment: Sendable, Hashable {
        public var version: Int
        public var reason: String
        /// The changed fields and their new values, as JSON text.
        public var changes: String
        public var amendedAt: Date
    }

    /// Closes every published challenge whose application deadline has passed, recording each in the audit log.
    ///
    /// Idempotent: a challenge already closed is left alone, so running it twice closes nothing more.
    /// - Parameters:
    ///   - asOf: the time to compare deadlines with; nil means the database's clock.
    /// - Returns: the ids closed by this call.
    public static func closeExpired(asOf: Date? = nil, on db: PostgresConnection) async throws -> [Int] {
        let ids = try await db.query(
            """
            UPDATE challenges SET status = 'closed'
            WHERE status = 'published' AND application_deadline <= COALESCE(\(asOf), now())
            RETURNING id
            """
        ).decode(Int.self)
        for id in ids {
            try await AuditLog.append(
                actor: "system", action: "challenge.close", entity: "challenge", entityID: "\(id)",
                before: ["status": "published"], after: ["status": "closed"], on: db)
        }
        return ids
    }

    /// A published (or later) challenge by id; nil for a draft or an unknown id.
    public static func publicChallenge(id: Int, on db: PostgresConnection) async throws -> PublicChallenge? {
        guard
            let row = try await db.query(
                """
                SELECT c.id, c.programme_id, p.name, c.title, c.task, c.content, c.indicators, c.category::text, c.domain,
                       c.industry_chain, c.application_deadline, to_char(c.completion_deadline, 'YYYY-MM-DD'), c.funding_ceiling_fen, c.winners,
                       c.status::text, c.version, c.published_at,
                       ARRAY(SELECT demand_id FROM challenge_demands WHERE challenge_id = c.id ORDER BY demand_id)
                FROM challenges c JOIN programmes p ON p.id = c.programme_id
                WHERE c.id = \(id) AND c.status <> 'draft'
                """
            ).first
        else { return nil }
        let id = try row.decode(Int.self, at: 0)
        let programmeID = try row.decode(Int.self, at: 1)
        let programmeName = try row.decode(String.self, at: 2)
        let title = try row.decode(String.self, at: 3)
        let task = try row.decode(String.self, at: 4)
        let content = try row.decode(String.self, at: 5)
        let indicators = try row.decode([String].self, at: 6)
        let category = try row.decode(String.self, at: 7)
        let domain = try row.decode(String.self, at: 8)
        let chain = try row.decode(String.self, at: 9)
        let deadline = try row.decode(Date.self, at: 10)
        let completion = try row.decode(String.self, at: 11)
        let ceiling = try row.decode(Int64.self, at: 12)
        let winners = try row.decode(Int.self, at: 13)
        let status = try row.decode(String.self, at: 14)
        let version = try row.decode(Int.self, at: 15)
        let publishedAt = try row.decode(Date?.self, at: 16)
        let demandIDs = try row.decode([Int].self, at: 17)
        let amendments = try await db.query(
            """
            SELECT version, reason, changes::text, amended_at FROM challenge_amendments
            WHERE challenge_id = \(id) ORDER BY version
            """
        ).map { row in
            let (version, reason, changes, at) = try row.decode((Int, String, String, Date).self)
            return Amendment(version: version, reason: reason, changes: changes, amendedAt: at)
        }
        return PublicChallenge(
            id: id, programmeID: programmeID, programmeName: programmeName, title: title, task: task, content: content,
            indicators: indicators, category: category, domain: domain, industryChain: chain, applicationDeadline: deadline,
            completionDeadline: completion, fundingCeilingFen: ceiling, winners: winners,
            status: ChallengeStatus(rawValue: status) ?? .published, version: version, publishedAt: publishedAt,
            demandIDs: demandIDs, amendments: amendments)
    }
}

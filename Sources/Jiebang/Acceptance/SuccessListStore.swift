public import Foundation
public import Postgres

/// The list of successful units (攻关成功单位名单): published per programme in batches, every accepted
/// project not yet listed at once, as awards are; public once published, with each project's result
/// record (成果).
public enum SuccessListStore {
    /// A published batch.
    public struct Batch: Codable, Sendable, Hashable {
        public var id: Int
        public var programmeID: Int
        public var publishedAt: Date
        public var entries: [Entry]
    }

    /// One successful project on the public list.
    public struct Entry: Codable, Sendable, Hashable {
        public var programmeID: Int
        public var listID: Int
        public var projectID: Int
        public var challengeTitle: String
        public var leadUnitName: String
        public var partnerUnitNames: [String]
        /// The result record's summary.
        public var achievement: String
        public var publishedAt: Date
        /// The audit chain's head when the list was published (`seq:hash`).
        public var auditHead: String?
    }

    /// The publisher lists every accepted project of the programme not yet listed, all at once.
    /// - Throws: `DomainError.conflict` when no accepted project awaits publication.
    public static func publish(programmeID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Batch {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "publish the list of successful units")
        guard
            let bureau = try await tx.query("SELECT bureau_id FROM programmes WHERE id = \(programmeID) FOR NO KEY UPDATE").first?
                .decode(Int.self)
        else { throw DomainError.notFound("there is no programme \(programmeID)") }
        try AccessPolicy.requireManager(
            ofBureau: bureau, actor, missing: "there is no programme \(programmeID)",
            reason: "only the programme's publisher publishes its list of successful units")
        let waiting = try await tx.query(
            """
            SELECT p.id FROM projects p
            WHERE p.programme_id = \(programmeID) AND p.status = 'accepted'
              AND NOT EXISTS (SELECT 1 FROM success_list_entries e WHERE e.project_id = p.id)
            ORDER BY p.id
            """
        ).decode(Int.self)
        guard !waiting.isEmpty else {
            throw DomainError.conflict(field: nil, message: "no accepted project of programme \(programmeID) awaits publication")
        }
        let id = try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO success_lists (programme_id, published_by, audit_head)
                VALUES (\(programmeID), \(actor.userID), \(unsafeRaw: AuditChain.headSQL)) RETURNING id
                """
            ).first!.decode(Int.self)
            try await tx.execute(
                "INSERT INTO success_list_entries (project_id, success_list_id) SELECT unnest(\(waiting)::bigint[]), \(id)")
            return id
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "success_list.publish", entity: "programme",
            entityID: String(programmeID), after: ["list": String(id), "projects": waiting.map(String.init).joined(separator: ",")], on: tx)
        let entries = try await published(programmeID: programmeID, on: tx).filter { $0.listID == id }
        return Batch(id: id, programmeID: programmeID, publishedAt: entries.first?.publishedAt ?? Date(), entries: entries)
    }

    /// The published lists, optionally of one programme, in publication order.
    public static func published(programmeID: Int?, on db: PostgresConnection) async throws -> [Entry] {
        try await db.query(
            """
            SELECT l.programme_id, l.id, p.id, c.title, u.name,
                   ARRAY(SELECT pu.name FROM bid_members m JOIN units pu ON pu.id = m.unit_id
                         WHERE m.bid_id = p.bid_id AND m.role = 'partner' AND m.status = 'accepted' ORDER BY pu.name),
                   a.summary, l.published_at, l.audit_head
            FROM success_lists l
            JOIN success_list_entries e ON e.success_list_id = l.id
            JOIN projects p ON p.id = e.project_id
            JOIN challenges c ON c.id = p.challenge_id
            JOIN units u ON u.id = p.lead_unit_id
            JOIN achievements a ON a.project_id = p.id
            WHERE \(programmeID)::bigint IS NULL OR l.programme_id = \(programmeID)
            ORDER BY l.id, p.id
            LIMIT 5000
            """
        ).map {
            let (programme, list, project, title, lead, partners, achievement, publishedAt, head) = try $0.decode(
                (Int, Int, Int, String, String, [String], String, Date, String?).self)
            return Entry(
                programmeID: programme, listID: list, projectID: project, challengeTitle: title, leadUnitName: lead,
                partnerUnitNames: partners, achievement: achievement, publishedAt: publishedAt, auditHead: head)
        }
    }
}

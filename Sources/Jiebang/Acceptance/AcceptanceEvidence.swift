public import Foundation
public import Postgres

/// 佐证材料: the PDFs the lead unit adds to its acceptance request, stored with their SHA-256 and read by
/// whoever reads the acceptance (the publisher, the lead unit, the acceptance experts).
public enum AcceptanceEvidence {
    /// A file's description (its bytes are downloaded separately).
    public struct File: Codable, Sendable, Hashable {
        public var id: Int
        public var acceptanceID: Int
        public var filename: String
        public var contentType: String
        public var sizeBytes: Int
        public var sha256: String
        public var uploadedAt: Date
    }

    /// Adds a PDF to an acceptance of the actor's unit's project, until the acceptance concludes.
    public static func add(
        acceptanceID: Int, filename: String, contentType: String?, bytes: [UInt8], by actor: Actor, on tx: PostgresConnection
    ) async throws -> File {
        try AccessPolicy.require(actor, [.unitAdmin, .unitMember], to: "add acceptance evidence")
        guard
            let row = try await tx.query(
                """
                SELECT p.lead_unit_id, a.status FROM acceptances a JOIN projects p ON p.id = a.project_id
                WHERE a.id = \(acceptanceID) FOR NO KEY UPDATE OF a
                """
            ).first
        else { throw DomainError.notFound("there is no acceptance \(acceptanceID)") }
        let (lead, status) = try row.decode((Int, String).self)
        guard actor.unitID == lead else { throw DomainError.notFound("there is no acceptance \(acceptanceID)") }
        let name = try PDFUpload.check(filename: filename, contentType: contentType, bytes: bytes)
        guard status != "concluded" else { throw DomainError.conflict(field: "status", message: "the acceptance is concluded") }
        let digest = SHA256Hex.digest(of: bytes)
        return try await ConstraintCatalog.translating {
            let (id, at) = try await tx.query(
                """
                INSERT INTO acceptance_evidence (acceptance_id, filename, content_type, size_bytes, sha256, data, uploaded_by)
                VALUES (\(acceptanceID), \(name), 'application/pdf', \(bytes.count), \(digest), \(Data(bytes)), \(actor.userID))
                RETURNING id, uploaded_at
                """
            ).first!.decode((Int, Date).self)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "acceptance.evidence", entity: "acceptance",
                entityID: String(acceptanceID), after: ["evidence": String(id), "sha256": digest], on: tx)
            return File(
                id: id, acceptanceID: acceptanceID, filename: name, contentType: "application/pdf", sizeBytes: bytes.count, sha256: digest,
                uploadedAt: at)
        }
    }

    /// The evidence of an acceptance the actor may read.
    public static func list(acceptanceID: Int, for actor: Actor, on db: PostgresConnection) async throws -> [File] {
        _ = try await AcceptanceStore.acceptance(id: acceptanceID, by: actor, on: db)
        return try await db.query(
            """
            SELECT id, acceptance_id, filename, content_type, size_bytes, sha256, uploaded_at
            FROM acceptance_evidence WHERE acceptance_id = \(acceptanceID) ORDER BY id
            """
        ).decode((Int, Int, String, String, Int, String, Date).self).map {
            File(id: $0.0, acceptanceID: $0.1, filename: $0.2, contentType: $0.3, sizeBytes: $0.4, sha256: $0.5, uploadedAt: $0.6)
        }
    }

    /// One file and its bytes, if the actor may read the acceptance.
    public static func download(acceptanceID: Int, evidenceID: Int, for actor: Actor, on db: PostgresConnection) async throws
        -> (file: File, bytes: Data)
    {
        _ = try await AcceptanceStore.acceptance(id: acceptanceID, by: actor, on: db)
        guard
            let row = try await db.query(
                """
                SELECT id, acceptance_id, filename, content_type, size_bytes, sha256, uploaded_at, data
                FROM acceptance_evidence WHERE id = \(evidenceID) AND acceptance_id = \(acceptanceID)
                """
            ).first
        else { throw DomainError.notFound("acceptance \(acceptanceID) has no evidence \(evidenceID)") }
        let (id, acceptance, filename, contentType, size, sha256, at, data) = try row.decode(
            (Int, Int, String, String, Int, String, Date, Data).self)
        return (
            File(
                id: id, acceptanceID: acceptance, filename: filename, contentType: contentType, sizeBytes: size, sha256: sha256,
                uploadedAt: at),
            data
        )
    }
}

public import Foundation
public import Postgres

/// 申报材料: the PDFs of a bid, stored with their SHA-256 and read only by those who may read the bid.
public enum BidAttachments {
    /// The largest attachment accepted: 20 MiB.
    public static let maximumSize = PDFUpload.maximumSize

    /// An attachment's description (its bytes are downloaded separately).
    public struct Attachment: Codable, Sendable, Hashable {
        public var id: Int
        public var bidID: Int
        public var filename: String
        public var contentType: String
        public var sizeBytes: Int
        public var sha256: String
        public var uploadedAt: Date
    }

    /// Adds a PDF to a bid the actor's unit leads, while it can still be edited.
    /// - Throws: `DomainError` (not a PDF, too large, a bad file name, not the lead, not editable).
    public static func add(
        bidID: Int, filename: String, contentType: String?, bytes: [UInt8], by actor: Actor, on tx: PostgresConnection
    ) async throws -> Attachment {
        let bid = try await BidStore.load(id: bidID, on: tx, lock: true)
        try BidStore.requireLead(bid, actor)
        guard bid.status.isEditable else {
            throw DomainError.conflict(field: "status", message: "a \(bid.status.rawValue) bid takes no new attachments")
        }
        let name = try PDFUpload.check(filename: filename, contentType: contentType, bytes: bytes)
        let digest = SHA256Hex.digest(of: bytes)
        return try await ConstraintCatalog.translating {
            let row = try await tx.query(
                """
                INSERT INTO bid_attachments (bid_id, filename, content_type, size_bytes, sha256, data, uploaded_by)
                VALUES (\(bidID), \(name), 'application/pdf', \(bytes.count), \(digest), \(Data(bytes)), \(actor.userID))
                RETURNING id, uploaded_at
                """
            ).first!
            let (id, at) = try row.decode((Int, Date).self)
            try await BidStore.audit(actor, "bid.attach", bidID, after: ["attachment": "\(id)", "sha256": digest], on: tx)
            return Attachment(
                id: id, bidID: bidID, filename: name, contentType: "application/pdf", sizeBytes: bytes.count, sha256: digest,
                uploadedAt: at)
        }
    }

    /// An attachment and its bytes, if the actor may read its bid.
    public static func download(
        bidID: Int, attachmentID: Int, for actor: Actor, on db: PostgresConnection
    ) async throws -> (attachment: Attachment, bytes: Data) {
        _ = try await BidStore.bid(id: bidID, for: actor, on: db)
        guard
            let row = try await db.query(
                """
                SELECT id, bid_id, filename, content_type, size_bytes, sha256, uploaded_at, data
                FROM bid_attachments WHERE id = \(attachmentID) AND bid_id = \(bidID)
                """
            ).first
        else { throw DomainError.notFound("bid \(bidID) has no attachment \(attachmentID)") }
        let attachment = Attachment(
            id: try row.decode(Int.self, at: 0), bidID: try row.decode(Int.self, at: 1), filename: try row.decode(String.self, at: 2),
            contentType: try row.decode(String.self, at: 3), sizeBytes: try row.decode(Int.self, at: 4),
            sha256: try row.decode(String.self, at: 5), uploadedAt: try row.decode(Date.self, at: 6))
        return (attachment, try row.decode(Data.self, at: 7))
    }

    /// The attachments of a bid the actor may read.
    public static func list(bidID: Int, for actor: Actor, on db: PostgresConnection) async throws -> [Attachment] {
        _ = try await BidStore.bid(id: bidID, for: actor, on: db)
        return try await db.query(
            """
            SELECT id, bid_id, filename, content_type, size_bytes, sha256, uploaded_at
            FROM bid_attachments WHERE bid_id = \(bidID) ORDER BY id
            """
        ).map { row in
            Attachment(
                id: try row.decode(Int.self, at: 0), bidID: try row.decode(Int.self, at: 1),
                filename: try row.decode(String.self, at: 2), contentType: try row.decode(String.self, at: 3),
                sizeBytes: try row.decode(Int.self, at: 4), sha256: try row.decode(String.self, at: 5),
                uploadedAt: try row.decode(Date.self, at: 6))
        }
    }
}

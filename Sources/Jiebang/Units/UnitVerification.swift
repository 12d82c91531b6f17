public import Foundation
public import Postgres

/// Who a unit is: its business licence (营业执照) and its municipal bureau's decision on it.
///
/// A unit registering itself is pending. Its admin uploads the licence; the municipal recommender of
/// its region (or a system admin) compares it with the record and verifies or rejects the unit. Only a
/// verified unit holds its credit code (one per code, by a partial unique index), is found by demand
/// imports and partner invitations, and may bid (a trigger on `bids` and `bid_members`). When a squatter
/// was verified under a real company's code, the bureau revokes it (rejects it with a note) and
/// verifies the real company: a dispute is this workflow, never a refused registration.
public enum UnitVerification {
    /// The bureau's decision.
    public struct Decision: Codable, Sendable, Hashable {
        /// `verified` or `rejected` (rejecting a verified unit revokes it).
        public var decision: String
        /// Why, shown to the unit (required when rejecting), at most 500 characters.
        public var note: String?

        public init(decision: String, note: String? = nil) {
            self.decision = decision
            self.note = note
        }
    }

    /// A unit's licence as stored (its bytes are downloaded separately).
    public struct Licence: Codable, Sendable, Hashable {
        public var unitID: Int
        public var filename: String
        public var sizeBytes: Int
        public var sha256: String
        public var uploadedAt: Date
    }

    /// A unit waiting for its bureau, with whether its licence is there and which other units claim its code.
    public struct PendingUnit: Codable, Sendable, Hashable {
        public var unit: UnitStore.Unit
        public var licence: Licence?
        /// Other units (pending or verified) claiming the same credit code: a dispute for the bureau to settle.
        public var sameCodeUnitIDs: [Int]
    }

    /// Stores (or replaces) the unit's business licence. Its admin uploads it while the unit is pending
    /// or rejected; a verified unit's licence changes only with a new verification.
    /// - Throws: `DomainError` (not a PDF, too large, a bad name, not the unit's admin, already verified).
    public static func uploadLicence(
        unitID: Int, filename: String, contentType: String?, bytes: [UInt8], by actor: Actor, on tx: PostgresConnection
    ) async throws -> Licence {
        let unit = try await UnitStore.unit(id: unitID, for: actor, on: tx)
        guard AccessPolicy.mayEdit(unitID: unitID, by: actor) || AccessPolicy.mayVerify(unitRegion: unit.regionCode, by: actor) else {
            throw DomainError.forbidden("only the unit's admin uploads its business licence")
        }
        guard unit.verification != "verified" else {
            throw DomainError.conflict(
                field: "verification", message: "the unit is verified; its bureau replaces the licence if it changes")
        }
        let name = try PDFUpload.check(filename: filename, contentType: contentType, bytes: bytes)
        let digest = SHA256Hex.digest(of: bytes)
        return try await ConstraintCatalog.translating {
            let at = try await tx.query(
                """
                INSERT INTO unit_licences (unit_id, filename, size_bytes, sha256, data, uploaded_by)
                VALUES (\(unitID), \(name), \(bytes.count), \(digest), \(Data(bytes)), \(actor.userID))
                ON CONFLICT (unit_id) DO UPDATE SET filename = EXCLUDED.filename, size_bytes = EXCLUDED.size_bytes,
                    sha256 = EXCLUDED.sha256, data = EXCLUDED.data, uploaded_by = EXCLUDED.uploaded_by, uploaded_at = now()
                RETURNING uploaded_at
                """
            ).first!.decode(Date.self)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "unit.licence", entity: "unit", entityID: "\(unitID)",
                after: ["filename": name, "sha256": digest], on: tx)
            return Licence(unitID: unitID, filename: name, sizeBytes: bytes.count, sha256: digest, uploadedAt: at)
        }
    }

    /// The unit's licence and its bytes, for the unit's people, its bureau and system admins.
    /// - Throws: `DomainError.notFound` when there is none, `.forbidden` for anyone else.
    public static func licence(unitID: Int, for actor: Actor, on db: PostgresConnection) async throws -> (Licence, Data) {
        let unit = try await UnitStore.unit(id: unitID, for: actor, on: db)
        // The licence is for the unit and whoever verifies it, not for the province's publishers.
        guard actor.unitID == unit.id || AccessPolicy.mayVerify(unitRegion: unit.regionCode, by: actor) else {
            throw DomainError.forbidden("only the unit's people and its municipal bureau read its business licence")
        }
        guard
            let row = try await db.query(
                "SELECT filename, size_bytes, sha256, uploaded_at, data FROM unit_licences WHERE unit_id = \(unitID)"
            ).first
        else { throw DomainError.notFound("unit \(unitID) has no business licence yet") }
        let (filename, size, sha256, at, data) = try row.decode((String, Int, String, Date, Data).self)
        return (Licence(unitID: unitID, filename: filename, sizeBytes: size, sha256: sha256, uploadedAt: at), data)
    }

    /// Records the bureau's decision on a unit.
    ///
    /// Verifying needs the licence on file and no other verified unit holding the code (revoke that one
    /// first: reject it with a note). Rejecting needs a note; rejecting a verified unit revokes it, and
    /// its live bids stay as they are (the bureau handles them).
    /// - Throws: `DomainError` (out of scope, no licence, code held, a missing note, an unknown decision).
    public static func decide(
        unitID: Int, _ decision: Decision, by actor: Actor, on tx: PostgresConnection
    ) async throws -> UnitStore.Unit {
        let note = decision.note?.trimmingCharacters(in: .whitespacesAndNewlines)
        var checker = FieldChecker()
        if !["verified", "rejected"].contains(decision.decision) { checker.add("decision", "must be verified or rejected") }
        if decision.decision == "rejected", (note ?? "").isEmpty { checker.add("note", "say why the unit is rejected") }
        if let note, note.count > 500 { checker.add("note", "must have at most 500 characters") }
        try checker.check()
        guard let row = try await tx.query("SELECT region_code FROM units WHERE id = \(unitID) FOR UPDATE").first else {
            throw DomainError.notFound("no unit has id \(unitID)")
        }
        let region = try row.decode(String.self)
        guard AccessPolicy.mayVerify(unitRegion: region, by: actor) else {
            // Whoever may not see the unit learns no more than for an id that does not exist.
            _ = try await UnitStore.unit(id: unitID, for: actor, on: tx)
            throw DomainError.forbidden("only the unit's municipal bureau or a system admin verifies unit \(unitID)")
        }
        let before = try await UnitStore.unit(id: unitID, for: actor, on: tx)
        if decision.decision == "verified" {
            let hasLicence = try await tx.query("SELECT 1 FROM unit_licences WHERE unit_id = \(unitID)").first != nil
            guard hasLicence || actor.role == .systemAdmin else {
                throw DomainError.conflict(field: "licence", message: "the unit has not uploaded its business licence")
            }
            if let holder = try await tx.query(
                "SELECT id FROM units WHERE credit_code = \(before.creditCode) AND verification = 'verified' AND id <> \(unitID)"
            ).first?.decode(Int.self) {
                throw DomainError.conflict(
                    field: "creditCode",
                    message: "unit \(holder) is verified under this credit code; revoke it first (reject it with a note)")
            }
        }
        return try await ConstraintCatalog.translating {
            let row = try await tx.query(
                """
                UPDATE units SET verification = \(decision.decision), decided_at = now(), decided_by = \(actor.userID),
                                 decision_note = \(note)
                WHERE id = \(unitID)
                RETURNING \(unsafeRaw: UnitStore.columns)
                """
            ).first!
            let unit = try UnitStore.decode(row)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "unit.\(decision.decision == "verified" ? "verify" : "reject")",
                entity: "unit", entityID: "\(unitID)", before: ["verification": before.verification],
                after: ["verification": unit.verification, "note": note ?? ""], on: tx)
            return unit
        }
    }

    /// ``UnitStore/columns`` of the table aliased `u`.
    static let qualifiedColumns = UnitStore.columns.split(separator: ",")
        .map { "u." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")

    /// The units waiting for the actor's decision: pending units of the recommender's region (all regions
    /// for a system admin), oldest first, after `afterID`.
    public static func pending(for actor: Actor, afterID: Int, limit: Int, on db: PostgresConnection) async throws -> [PendingUnit] {
        guard actor.role == .systemAdmin || actor.role == .municipalRecommender else {
            throw DomainError.forbidden("only municipal bureaus and system admins verify units")
        }
        let region = actor.role == .systemAdmin ? nil : actor.regionCode
        let rows = try await db.query(
            """
            SELECT \(unsafeRaw: qualifiedColumns),
                   l.filename, l.size_bytes, l.sha256, l.uploaded_at,
                   ARRAY(SELECT o.id FROM units o WHERE o.credit_code = u.credit_code AND o.id <> u.id
                         AND o.verification <> 'rejected' ORDER BY o.id)
            FROM units u LEFT JOIN unit_licences l ON l.unit_id = u.id
            WHERE u.verification = 'pending' AND (\(region)::text IS NULL OR u.region_code = \(region)) AND u.id > \(afterID)
            ORDER BY u.id LIMIT \(limit)
            """)
        return try rows.map { row in
            let unit = try UnitStore.decode(row)
            let filename = try row.decode(String?.self, at: 15)
            var licence: Licence?
            if let filename {
                licence = Licence(
                    unitID: unit.id, filename: filename, sizeBytes: try row.decode(Int.self, at: 16),
                    sha256: try row.decode(String.self, at: 17), uploadedAt: try row.decode(Date.self, at: 18))
            }
            return PendingUnit(unit: unit, licence: licence, sameCodeUnitIDs: try row.decode([Int].self, at: 19))
        }
    }
}

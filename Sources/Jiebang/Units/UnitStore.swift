public import Foundation
public import Postgres

/// Units (单位) in PostgreSQL: registration, reading within scope, edits with a revision.
public enum UnitStore {
    /// A unit's record as a client sends it.
    public struct Input: Codable, Sendable, Hashable {
        /// enterprise, university, institute or other.
        public var kind: String
        public var name: String
        /// 统一社会信用代码, checked per GB 32100-2015.
        public var creditCode: String
        /// The city or prefecture, a 6-digit administrative division code.
        public var regionCode: String
        /// 企业性质 of an enterprise: state_owned, private, joint_venture, high_tech, srdi.
        public var natures: [String]?
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String

        public init(
            kind: String, name: String, creditCode: String, regionCode: String, natures: [String]? = nil,
            contactName: String, contactPhone: String, contactEmail: String
        ) {
            self.kind = kind
            self.name = name
            self.creditCode = creditCode
            self.regionCode = regionCode
            self.natures = natures
            self.contactName = contactName
            self.contactPhone = contactPhone
            self.contactEmail = contactEmail
        }

        /// The kinds of unit.
        public static let kinds = ["enterprise", "university", "institute", "other"]
        /// The natures an enterprise may have.
        public static let natureCodes = ["state_owned", "private", "joint_venture", "high_tech", "srdi"]

        /// The input with its text trimmed and codes normalised.
        /// - Throws: `DomainError.invalid` listing every field at fault.
        public func checked() throws(DomainError) -> Input {
            var checker = FieldChecker()
            var result = self
            result.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
            result.contactName = contactName.trimmingCharacters(in: .whitespacesAndNewlines)
            result.contactPhone = contactPhone.trimmingCharacters(in: .whitespaces)
            result.contactEmail = contactEmail.trimmingCharacters(in: .whitespaces)
            if !Self.kinds.contains(kind) { checker.add("kind", "must be one of \(Self.kinds.joined(separator: ", "))") }
            checker.name("name", name, 2...200)
            do {
                result.creditCode = try CreditCode(creditCode).value
            } catch {
                checker.add("creditCode", error.description)
            }
            do {
                result.regionCode = try RegionCode(regionCode).value
            } catch {
                checker.add("regionCode", error.description)
            }
            let natures = natures ?? []
            for (index, nature) in natures.enumerated() where !Self.natureCodes.contains(nature) {
                checker.add("natures[\(index)]", "must be one of \(Self.natureCodes.joined(separator: ", "))")
            }
            if Set(natures).count != natures.count { checker.add("natures", "lists a nature twice") }
            if !natures.isEmpty, kind != "enterprise" { checker.add("natures", "only an enterprise has natures") }
            result.natures = natures
            checker.name("contactName", contactName, 1...100)
            checker.phone("contactPhone", result.contactPhone)
            checker.email("contactEmail", result.contactEmail)
            try checker.check()
            return result
        }
    }

    /// A registered unit.
    public struct Unit: Codable, Sendable, Hashable {
        public var id: Int
        public var revision: Int
        public var kind: String
        public var name: String
        public var creditCode: String
        public var regionCode: String
        public var natures: [String]
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String
        /// pending (registered by itself, not yet confirmed), verified (its bureau confirmed it against its
        /// business licence) or rejected. Only a verified unit holds its credit code and may bid.
        public var verification: String
        /// When the bureau decided, if it has.
        public var decidedAt: Date?
        /// The bureau's note on its decision.
        public var decisionNote: String?
        public var createdAt: Date
        public var updatedAt: Date
    }

    /// The first administrator of a unit being registered.
    public struct FirstAdmin: Codable, Sendable, Hashable {
        public var login: String
        public var displayName: String
        public var password: String

        public init(login: String, displayName: String, password: String) {
            self.login = login
            self.displayName = displayName
            self.password = password
        }
    }

    /// Registers a unit, with its first unit admin if one is given, and appends audit rows.
    ///
    /// A unit registering itself is pending until its municipal bureau verifies it (``UnitVerification``);
    /// one a system admin registers is verified at once. A pending unit may claim a code that another
    /// pending or verified unit claims too: codes are public, so the bureau settles who holds it.
    /// - Parameters:
    ///   - admin: the first admin and their password, checked and hashed before the transaction
    ///     (``NewPassword/prepare(_:personal:on:)``).
    /// - Throws: `DomainError` (invalid fields, a credit code already registered).
    public static func register(
        _ input: Input, admin: (FirstAdmin, NewPassword)?, by actor: Actor?, on tx: PostgresConnection
    ) async throws -> Unit {
        let input = try input.checked()
        if case (let admin, let password)? = admin {
            var checker = FieldChecker()
            checker.name("admin.login", admin.login, 3...254)
            checker.name("admin.displayName", admin.displayName, 1...100)
            if let problem = password.problem { checker.add("admin.password", "the password \(problem)") }
            try checker.check()
        }
        let label = actor?.displayName ?? "registration"
        let byAdmin = actor?.role == .systemAdmin
        return try await ConstraintCatalog.translating {
            let unit = try await decode(
                tx.query(
                    """
                    INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email,
                                       verification, decided_at, decided_by, decision_note)
                    VALUES (\(input.kind)::unit_kind, \(input.name), \(input.creditCode), \(input.regionCode),
                            \(input.natures ?? []), \(input.contactName), \(input.contactPhone), \(input.contactEmail),
                            CASE WHEN \(byAdmin) THEN 'verified' ELSE 'pending' END, CASE WHEN \(byAdmin) THEN now() END,
                            CASE WHEN \(byAdmin) THEN \(actor?.userID) END,
                            CASE WHEN \(byAdmin) THEN 'registered by a system admin' END)
                    RETURNING \(unsafeRaw: columns)
                    """
                ).first!)
            try await AuditLog.append(
                actor: label, actorID: actor?.userID, action: "unit.register", entity: "unit", entityID: "\(unit.id)",
                after: ["name": unit.name, "creditCode": unit.creditCode, "verification": unit.verification], on: tx)
            if case (let admin, let password)? = admin {
                do {
                    _ = try await AccountStore.createUser(
                        .init(login: admin.login, displayName: admin.displayName, role: .unitAdmin, unitID: unit.id),
                        passwordHash: password.hash, by: label, on: tx)
                } catch AccountError.loginTaken {
                    throw DomainError.conflict(field: "admin.login", message: "is already in use")
                }
            }
            return unit
        }
    }

    /// The id and name of the verified unit holding `code`, if one does. Lead units look up the partners they
    /// invite by the code printed on the partner's business licence; a pending unit claiming the code is
    /// not found, so a squatter is never invited in the real company's name.
    public static func unit(creditCode code: CreditCode, on db: PostgresConnection) async throws -> (id: Int, name: String)? {
        try await db.query(
            "SELECT id, name FROM units WHERE credit_code = \(code.value) AND verification = 'verified'"
        ).first?.decode((Int, String).self)
    }

    /// A unit, if the actor may see its private data.
    /// - Throws: `DomainError.notFound` for an unknown unit or one outside the actor's scope, `.forbidden` for a
    ///   role that reads no unit's private data.
    public static func unit(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> Unit {
        guard let row = try await db.query("SELECT \(unsafeRaw: columns) FROM units WHERE id = \(id)").first else {
            throw DomainError.notFound("no unit has id \(id)")
        }
        let unit = try decode(row)
        guard AccessPolicy.mayRead(unitID: unit.id, regionCode: unit.regionCode, by: actor) else {
            throw DomainError.refusal(
                of: actor, scopedRoles: [.unitAdmin, .unitMember, .municipalRecommender, .provincialPublisher],
                missing: "no unit has id \(id)", reason: "unit \(id) is outside your scope")
        }
        return unit
    }

    /// Replaces a unit's record, if it is still at `revision`.
    /// - Throws: `DomainError.stale` when someone else edited it first; `.forbidden` unless the actor
    ///   is the unit's admin or a system admin.
    public static func update(
        id: Int, _ input: Input, ifRevision revision: Int, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Unit {
        let input = try input.checked()
        let before = try await unit(id: id, for: actor, on: tx)
        let bureau = AccessPolicy.mayVerify(unitRegion: before.regionCode, by: actor)
        guard AccessPolicy.mayEdit(unitID: id, by: actor) || bureau else {
            throw DomainError.forbidden("only the unit's admin, its municipal bureau or a system admin may edit unit \(id)")
        }
        if !bureau {
            var checker = FieldChecker()
            if input.creditCode != before.creditCode {
                checker.add("creditCode", "changes only through the unit's municipal bureau, which checks the business licence")
            }
            if input.regionCode != before.regionCode {
                checker.add("regionCode", "changes only through the unit's municipal bureau, which checks the business licence")
            }
            try checker.check()
        }
        return try await ConstraintCatalog.translating {
            guard
                let row = try await tx.query(
                    """
                    UPDATE units SET kind = \(input.kind)::unit_kind, name = \(input.name), credit_code = \(input.creditCode),
                        region_code = \(input.regionCode), natures = \(input.natures ?? []), contact_name = \(input.contactName),
                        contact_phone = \(input.contactPhone), contact_email = \(input.contactEmail)
                    WHERE id = \(id) AND revision = \(revision)
                    RETURNING \(unsafeRaw: columns)
                    """
                ).first
            else {
                let current = try await tx.query("SELECT revision FROM units WHERE id = \(id)").first?.decode(Int.self)
                throw DomainError.stale(current: current ?? before.revision)
            }
            let unit = try decode(row)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "unit.update", entity: "unit", entityID: "\(id)",
                before: snapshot(before), after: snapshot(unit), on: tx)
            return unit
        }
    }

    static let columns = """
        id, revision, kind::text, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email, \
        verification, decided_at, decision_note, created_at, updated_at
        """

    static func decode(_ row: PostgresRow) throws -> Unit {
        Unit(
            id: try row.decode(Int.self, at: 0), revision: try row.decode(Int.self, at: 1),
            kind: try row.decode(String.self, at: 2), name: try row.decode(String.self, at: 3),
            creditCode: try row.decode(String.self, at: 4), regionCode: try row.decode(String.self, at: 5),
            natures: try row.decode([String].self, at: 6), contactName: try row.decode(String.self, at: 7),
            contactPhone: try row.decode(String.self, at: 8), contactEmail: try row.decode(String.self, at: 9),
            verification: try row.decode(String.self, at: 10), decidedAt: try row.decode(Date?.self, at: 11),
            decisionNote: try row.decode(String?.self, at: 12),
            createdAt: try row.decode(Date.self, at: 13), updatedAt: try row.decode(Date.self, at: 14))
    }

    static func snapshot(_ unit: Unit) -> [String: String] {
        [
            "kind": unit.kind, "name": unit.name, "creditCode": unit.creditCode, "regionCode": unit.regionCode,
            "natures": unit.natures.joined(separator: ","), "contactName": unit.contactName,
            "contactPhone": unit.contactPhone, "contactEmail": unit.contactEmail, "verification": unit.verification,
        ]
    }
}

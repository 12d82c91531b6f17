import Foundation
public import Postgres

/// The expert pool in PostgreSQL: creating experts with their accounts, reading, searching, editing,
/// retiring and reinstating them. Access is checked here, against the pool's bureau.
public enum ExpertStore {
    /// Creates an expert: the user (role expert) and the profile, in the caller's transaction, in the
    /// pool of the actor's bureau.
    /// - Parameters:
    ///   - password: `input.password`, checked and hashed before the transaction; nil leaves the
    ///     account without a password (it cannot sign in yet).
    /// - Throws: `DomainError` (forbidden, invalid fields, an unknown unit), `AccountError.loginTaken` (409).
    public static func create(
        _ given: ExpertInput, password: NewPassword? = nil, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Expert {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "create experts")
        guard let bureauID = actor.bureauID else { throw DomainError.forbidden("you belong to no bureau") }
        let passwordIssues = password?.problem.map { [FieldIssue(field: "password", message: "the password \($0)")] } ?? []
        let input: ExpertInput
        switch Result(catching: { () throws(DomainError) -> ExpertInput in try given.checked() }) {
        case .success(let valid) where passwordIssues.isEmpty: input = valid
        case .success: throw DomainError.invalid(passwordIssues)
        case .failure(.invalid(let issues)): throw DomainError.invalid(issues + passwordIssues)
        case .failure(let error): throw error
        }
        if let unitID = input.unitID, try await tx.query("SELECT 1 FROM units WHERE id = \(unitID)").first == nil {
            throw DomainError.invalid("unitID", "no unit has id \(unitID)")
        }
        return try await ConstraintCatalog.translating {
            let id = try await AccountStore.createUser(
                .init(login: input.login, displayName: input.displayName, role: .expert, email: input.email),
                passwordHash: password?.hash,
                by: actor.displayName, on: tx)
            try await tx.execute(
                """
                INSERT INTO experts (user_id, bureau_id, unit_id, organisation, region_code, title, domains, industry_chains,
                                     keywords, load_cap, available)
                VALUES (\(id), \(bureauID), \(input.unitID), \(input.organisation), \(input.regionCode), \(input.title ?? ""),
                        \(input.domains ?? []), \(input.industryChains ?? []), \(input.keywords ?? []), \(input.loadCap!),
                        \(input.available!))
                """)
            let expert = try await load(id: id, on: tx)!
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "expert.create", entity: "expert",
                entityID: "\(id)", after: snapshot(expert), on: tx)
            return expert
        }
    }

    /// An expert, for the pool's publisher or the expert.
    /// - Throws: `DomainError.notFound` or `.forbidden`.
    public static func expert(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> Expert {
        try AccessPolicy.require(actor, [.provincialPublisher, .expert], to: "read experts")
        guard let expert = try await load(id: id, on: db) else { throw DomainError.notFound("no expert has id \(id)") }
        guard AccessPolicy.mayReadExpert(id: id, bureauID: expert.bureauID, by: actor) else {
            throw DomainError.notFound("no expert has id \(id)")
        }
        return expert
    }

    /// The signed-in expert's own profile.
    /// - Throws: `DomainError.forbidden` for anyone but an expert, `.notFound` when no pool holds them yet.
    public static func ownProfile(of actor: Actor, on db: PostgresConnection) async throws -> Expert {
        try AccessPolicy.require(actor, [.expert], to: "have an expert profile")
        guard let expert = try await load(id: actor.userID, on: db) else {
            throw DomainError.notFound("no expert pool holds you yet")
        }
        return expert
    }

    /// A page of the pool of the actor's bureau, by id.
    /// - Parameters:
    ///   - search: text found (any case) in the name, login, organisation, title, or one of the domains,
    ///     industry chains or keywords.
    ///   - includeRetired: whether retired experts are listed too.
    ///   - available: only the experts that are (true) or are not (false) available.
    ///   - afterID: continue above this id (the previous page's last id).
    public static func list(
        search: String?, includeRetired: Bool, available: Bool?, afterID: Int?, limit: Int, for actor: Actor,
        on db: PostgresConnection
    ) async throws -> [Expert] {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "list experts")
        guard let bureauID = actor.bureauID else { throw DomainError.forbidden("you belong to no bureau") }
        let needle = search.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.flatMap { $0.isEmpty ? nil : $0 }
        return try await db.query(
            """
            \(unsafeRaw: select)
            WHERE e.bureau_id = \(bureauID)
              AND (\(includeRetired) OR e.retired_at IS NULL)
              AND (\(available)::boolean IS NULL OR e.available = \(available))
              AND (\(afterID)::bigint IS NULL OR e.user_id > \(afterID))
              AND (\(needle)::text IS NULL
                   OR strpos(lower(u.display_name || ' ' || u.login || ' ' || e.organisation || ' ' || e.title), \(needle)) > 0
                   OR EXISTS (SELECT 1 FROM unnest(e.domains || e.industry_chains || e.keywords) AS tag
                              WHERE strpos(lower(tag), \(needle)) > 0))
            ORDER BY e.user_id
            LIMIT \(min(max(limit, 1), 201))
            """
        ).map(decode)
    }

    /// Edits an expert, if still at `revision`. The pool's publisher edits any field; the expert only
    /// their availability. A retired expert becomes available only after ``reinstate(id:by:on:)``.
    /// - Throws: `DomainError` (forbidden, invalid fields, `.stale`, a conflict for a retired expert).
    public static func update(
        id: Int, _ changes: ExpertChanges, ifRevision revision: Int, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Expert {
        let before = try await expert(id: id, for: actor, on: tx)
        if actor.role == .expert, changes.touchesProfile {
            throw DomainError.forbidden("an expert changes only their availability; the pool's publisher edits the profile")
        }
        var checker = FieldChecker()
        if let name = changes.displayName { checker.name("displayName", name, 1...100) }
        if case .some(.some(let unitID)) = changes.unitID, unitID <= 0 { checker.add("unitID", "must be a unit's id") }
        var profile = ExpertInput.Profile(
            organisation: changes.organisation ?? before.organisation, regionCode: changes.regionCode ?? before.regionCode,
            title: changes.title ?? before.title, domains: changes.domains ?? before.domains,
            industryChains: changes.industryChains ?? before.industryChains, keywords: changes.keywords ?? before.keywords,
            loadCap: changes.loadCap ?? before.loadCap)
        profile.check(into: &checker)
        try checker.check()
        let unitID = changes.unitID ?? before.unitID
        if let unitID, unitID != before.unitID, try await tx.query("SELECT 1 FROM units WHERE id = \(unitID)").first == nil {
            throw DomainError.invalid("unitID", "no unit has id \(unitID)")
        }
        let available = changes.available ?? before.available
        if available, before.retiredAt != nil {
            throw DomainError.conflict(
                field: "available", message: "expert \(id) is retired; reinstate them (POST /v1/experts/\(id)/reinstate) first")
        }
        return try await ConstraintCatalog.translating {
            guard
                try await tx.execute(
                    """
                    UPDATE experts SET unit_id = \(unitID), organisation = \(profile.organisation),
                        region_code = \(profile.regionCode), title = \(profile.title), domains = \(profile.domains),
                        industry_chains = \(profile.industryChains), keywords = \(profile.keywords),
                        load_cap = \(profile.loadCap), available = \(available), updated_at = now()
                    WHERE user_id = \(id) AND revision = \(revision)
                    """) == 1
            else {
                let current = try await tx.query("SELECT revision FROM experts WHERE user_id = \(id)").first?.decode(Int.self)
                throw DomainError.stale(current: current ?? before.revision)
            }
            if let name = changes.displayName {
                try await tx.execute(
                    "UPDATE users SET display_name = \(name.trimmingCharacters(in: .whitespacesAndNewlines)) WHERE id = \(id)")
            }
            let expert = try await load(id: id, on: tx)!
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "expert.update", entity: "expert", entityID: "\(id)",
                before: snapshot(before), after: snapshot(expert), on: tx)
            return expert
        }
    }

    /// Retires an expert of the actor's pool: never drawn again, not available. Retiring a retired expert
    /// changes nothing.
    /// - Throws: `DomainError.notFound` or `.forbidden`.
    public static func retire(id: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Expert {
        try await setRetired(true, id: id, by: actor, on: tx)
    }

    /// Reinstates a retired expert of the actor's pool. They stay unavailable until an edit makes them
    /// available. Reinstating an expert who is not retired changes nothing.
    /// - Throws: `DomainError.notFound` or `.forbidden`.
    public static func reinstate(id: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Expert {
        try await setRetired(false, id: id, by: actor, on: tx)
    }

    static func setRetired(_ retired: Bool, id: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Expert {
        try AccessPolicy.require(actor, [.provincialPublisher], to: retired ? "retire experts" : "reinstate experts")
        let before = try await expert(id: id, for: actor, on: tx)
        guard (before.retiredAt != nil) != retired else { return before }
        try await tx.execute(
            """
            UPDATE experts SET retired_at = CASE WHEN \(retired) THEN now() END, available = false, updated_at = now()
            WHERE user_id = \(id)
            """)
        let expert = try await load(id: id, on: tx)!
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: retired ? "expert.retire" : "expert.reinstate",
            entity: "expert", entityID: "\(id)", before: snapshot(before), after: snapshot(expert), on: tx)
        return expert
    }

    /// The expert with this id, whoever asks, or nil.
    static func load(id: Int, on db: PostgresConnection) async throws -> Expert? {
        try await db.query("\(unsafeRaw: select) WHERE e.user_id = \(id)").first.map(decode)
    }

    static let select = """
        SELECT e.user_id, e.revision, u.login, u.display_name, e.bureau_id, e.unit_id, un.name, e.organisation,
               e.region_code, e.title, e.domains, e.industry_chains, e.keywords, e.load_cap, e.available, e.retired_at,
               e.created_at, e.updated_at
        FROM experts e JOIN users u ON u.id = e.user_id LEFT JOIN units un ON un.id = e.unit_id
        """

    static func decode(_ row: PostgresRow) throws -> Expert {
        Expert(
            id: try row.decode(Int.self, at: 0), revision: try row.decode(Int.self, at: 1),
            login: try row.decode(String.self, at: 2), displayName: try row.decode(String.self, at: 3),
            bureauID: try row.decode(Int.self, at: 4), unitID: try row.decode(Int?.self, at: 5),
            unitName: try row.decode(String?.self, at: 6), organisation: try row.decode(String.self, at: 7),
            regionCode: try row.decode(String.self, at: 8), title: try row.decode(String.self, at: 9),
            domains: try row.decode([String].self, at: 10), industryChains: try row.decode([String].self, at: 11),
            keywords: try row.decode([String].self, at: 12), loadCap: try row.decode(Int.self, at: 13),
            available: try row.decode(Bool.self, at: 14), retiredAt: try row.decode(Date?.self, at: 15),
            createdAt: try row.decode(Date.self, at: 16), updatedAt: try row.decode(Date.self, at: 17))
    }

    static func snapshot(_ expert: Expert) -> [String: String] {
        [
            "login": expert.login, "displayName": expert.displayName, "unitID": expert.unitID.map { "\($0)" } ?? "",
            "organisation": expert.organisation, "regionCode": expert.regionCode, "title": expert.title,
            "domains": expert.domains.joined(separator: "、"), "industryChains": expert.industryChains.joined(separator: "、"),
            "keywords": expert.keywords.joined(separator: "、"), "loadCap": "\(expert.loadCap)",
            "available": "\(expert.available)", "retired": expert.retiredAt == nil ? "false" : "true",
        ]
    }
}

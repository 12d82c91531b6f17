public import Postgres

extension ExpertStore {
    /// The reason recorded for a tie that an import declares (回避单位).
    public static let importedTieReason = "专家库导入时声明"

    /// Imports validated rows into the pool of `bureauID`, in the caller's transaction: every row, or
    /// (when one fails) none, since the caller rolls back on a failure.
    ///
    /// A login that is new creates the user (role expert, no password yet) and the profile. A login of
    /// an expert of this pool updates their name and profile (availability and retirement stay as they
    /// are) and adds the ties listed; a login of an expert without a profile gets one. A login of another
    /// user, or of an expert of another pool, is a row error.
    /// - Parameters:
    ///   - actor: who imports, for the audit log.
    ///   - progressEvery: how many rows between two calls of `progress`.
    ///   - progress: called with the count of rows written so far.
    /// - Returns: what was done, or every row error (units or logins the database does not know as the file says).
    /// - Throws: `DomainError.invalid` for a bureau that is unknown or not provincial; `.conflict` when a
    ///   concurrent request created one of the logins first.
    public static func importRows(
        _ rows: [ExpertImport.Row], bureauID: Int, actor: String, actorID: Int? = nil, on tx: PostgresConnection,
        progressEvery: Int = 100, progress: (Int) -> Void = { _ in }
    ) async throws -> Result<ExpertImport.Summary, ExpertImport.Failure> {
        guard let level = try await tx.query("SELECT level::text FROM bureaus WHERE id = \(bureauID)").first?.decode(String.self)
        else { throw DomainError.invalid("bureauID", "no bureau has id \(bureauID)") }
        guard level == "province" else {
            throw DomainError.invalid("bureauID", "bureau \(bureauID) is not a provincial bureau; only a province keeps an expert pool")
        }
        let codes = Array(Set(rows.flatMap { ($0.unitCode.map { [$0] } ?? []) + $0.tieCodes }.map(\.value)))
        var units: [String: Int] = [:]
        // A code several units claim (a squatter pending beside the real company) names the verified one.
        for row in try await tx.query(
            """
            SELECT DISTINCT ON (credit_code) credit_code, id FROM units WHERE credit_code = ANY (\(codes))
            ORDER BY credit_code, verification = 'verified' DESC, id
            """)
        {
            let (code, id) = try row.decode((String, Int).self)
            units[code] = id
        }
        var existing: [String: (id: Int, role: String, bureauID: Int?)] = [:]
        for row in try await tx.query(
            """
            SELECT u.login, u.id, u.role::text, e.bureau_id
            FROM users u LEFT JOIN experts e ON e.user_id = u.id
            WHERE u.login = ANY (\(rows.map(\.login)))
            ORDER BY u.id
            FOR UPDATE OF u
            """)
        {
            let (login, id, role, pool) = try row.decode((String, Int, String, Int?).self)
            existing[login] = (id, role, pool)
        }
        var errors: [ExpertImport.RowError] = []
        for row in rows {
            if let code = row.unitCode, units[code.value] == nil {
                errors.append(.init(line: row.line, column: "统一社会信用代码", message: "no registered unit has credit code \(code.value)"))
            }
            let unknown = row.tieCodes.filter { units[$0.value] == nil }.map(\.value)
            if !unknown.isEmpty {
                errors.append(
                    .init(line: row.line, column: "回避单位", message: "no registered unit has credit code \(unknown.joined(separator: "、"))"))
            }
            if let user = existing[row.login] {
                if user.role != Role.expert.rawValue {
                    errors.append(.init(line: row.line, column: "登录名", message: "\(row.login) is a user who is not an expert"))
                } else if let pool = user.bureauID, pool != bureauID {
                    errors.append(.init(line: row.line, column: "登录名", message: "\(row.login) is an expert of another bureau's pool"))
                }
            }
        }
        guard errors.isEmpty else { return .failure(ExpertImport.Failure(errors)) }
        var summary = ExpertImport.Summary(rows: rows.count, created: 0, updated: 0, ties: 0)
        for (done, row) in rows.enumerated() {
            let unitID = row.unitCode.flatMap { units[$0.value] }
            let profile = row.profile
            do {
                if let user = existing[row.login], user.bureauID != nil {
                    try await tx.execute(
                        "UPDATE users SET display_name = \(row.displayName), email = coalesce(\(row.email), email) WHERE id = \(user.id)")
                    try await tx.execute(
                        """
                        UPDATE experts SET unit_id = \(unitID), organisation = \(profile.organisation),
                            region_code = \(profile.regionCode), title = \(profile.title), domains = \(profile.domains),
                            industry_chains = \(profile.industryChains), keywords = \(profile.keywords),
                            load_cap = \(profile.loadCap), updated_at = now()
                        WHERE user_id = \(user.id)
                        """)
                    summary.updated += 1
                    try await insertTies(row, expertID: user.id, units: units, on: tx)
                } else {
                    let id: Int
                    if let user = existing[row.login] {
                        id = user.id
                        try await tx.execute(
                            "UPDATE users SET display_name = \(row.displayName), email = coalesce(\(row.email), email) WHERE id = \(id)")
                    } else {
                        id = try await AccountStore.createUser(
                            .init(login: row.login, displayName: row.displayName, role: .expert, email: row.email), passwordHash: nil,
                            by: actor, on: tx)
                    }
                    try await tx.execute(
                        """
                        INSERT INTO experts (user_id, bureau_id, unit_id, organisation, region_code, title, domains,
                                             industry_chains, keywords, load_cap)
                        VALUES (\(id), \(bureauID), \(unitID), \(profile.organisation), \(profile.regionCode),
                                \(profile.title), \(profile.domains), \(profile.industryChains), \(profile.keywords),
                                \(profile.loadCap))
                        """)
                    summary.created += 1
                    try await insertTies(row, expertID: id, units: units, on: tx)
                }
            } catch AccountError.loginTaken(let login) {
                throw DomainError.conflict(
                    field: "line \(row.line), 登录名",
                    message: "\(login) was created by another request at the same time; nothing was imported, import again")
            } catch let error as PostgresError {
                guard let refusal = ConstraintCatalog.domainError(for: error) else { throw error }
                if case .conflict = refusal {
                    throw DomainError.conflict(field: "line \(row.line)", message: refusal.description)
                }
                throw DomainError.invalid("line \(row.line)", refusal.description)
            }
            summary.ties += row.tieCodes.count
            if (done + 1) % max(progressEvery, 1) == 0 || done + 1 == rows.count { progress(done + 1) }
        }
        try await AuditLog.append(
            actor: actor, actorID: actorID, action: "expert.import", entity: "bureau", entityID: "\(bureauID)",
            after: ["rows": "\(summary.rows)", "created": "\(summary.created)", "updated": "\(summary.updated)"], on: tx)
        return .success(summary)
    }

    static func insertTies(_ row: ExpertImport.Row, expertID: Int, units: [String: Int], on tx: PostgresConnection) async throws {
        guard !row.tieCodes.isEmpty else { return }
        try await tx.execute(
            """
            INSERT INTO expert_ties (expert_id, unit_id, reason)
            SELECT \(expertID), unit_id, \(importedTieReason) FROM unnest(\(row.tieCodes.compactMap { units[$0.value] })) AS unit_id
            ON CONFLICT (expert_id, unit_id) DO NOTHING
            """)
    }
}

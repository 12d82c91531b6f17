public import Postgres

/// Results in PostgreSQL, many at a time: the import of a result table.
public enum ResultStore {
    /// Imports validated rows in one transaction: all of them, or (on any error) none.
    ///
    /// Each row's unit is found by its credit code and must be a university or an institute; a bureau (or the command
    /// line) imports only for verified units (a pending unit claiming a code may be squatting it), a unit's people
    /// only for their own unit.
    /// - Parameters:
    ///   - actor: who imports: a university's or institute's people, or a bureau for the units of its region or
    ///     province; nil for the operator at the command line, who may import for any verified unit.
    ///   - bureauID: the bureau filing on the units' behalf when `actor` is nil (an actor's own bureau otherwise).
    ///   - progress: called after every 1,000 rows with the count so far.
    /// - Returns: the ids of the new results, or every row whose unit is unknown, of the wrong kind or elsewhere.
    /// - Throws: `DomainError.forbidden` when the actor may not import results or names a unit outside its scope.
    public static func importRows(
        _ rows: [ResultImport.Row], by actor: Actor?, bureauID: Int? = nil, on tx: PostgresConnection,
        progress: (Int) -> Void = { _ in }
    ) async throws -> Result<[Int], ResultImport.Failure> {
        if let actor {
            try AccessPolicy.require(
                actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher], to: "import results")
            if let own = actor.unitID {
                let kind = try await tx.query("SELECT kind::text FROM units WHERE id = \(own)").first?.decode(String.self)
                guard kind == "university" || kind == "institute" else {
                    throw DomainError.forbidden("only a university's or an institute's people import results; enterprises file demands")
                }
            }
        }
        let codes = Array(Set(rows.map(\.creditCode.value)))
        var units: [String: (id: Int, kind: String, region: String, verified: Bool)] = [:]
        // A verified unit holds its code before a pending one that may be squatting it (UnitVerification).
        for row in try await tx.query(
            """
            SELECT DISTINCT ON (credit_code) credit_code, id, kind::text, region_code, verification = 'verified'
            FROM units WHERE credit_code = ANY (\(codes))
            ORDER BY credit_code, verification = 'verified' DESC, id
            """
        ) {
            let (code, id, kind, region, verified) = try row.decode((String, Int, String, String, Bool).self)
            units[code] = (id, kind, region, verified)
        }
        var errors: [ResultImport.RowError] = []
        var outside: [Int] = []
        var unitIDs: [Int] = []
        var regions: [String] = []
        for row in rows {
            let code = row.creditCode.value
            func fail(_ column: String, _ message: String) {
                errors.append(ResultImport.RowError(line: row.line, column: column, message: message))
            }
            guard let unit = units[code], unit.verified || (actor?.unitID == unit.id) else {
                fail("统一社会信用代码", "no verified unit has credit code \(code)")
                continue
            }
            if let actor, !AccessPolicy.mayFileDemand(unitID: unit.id, regionCode: unit.region, by: actor) {
                outside.append(row.line)
                continue
            }
            if unit.kind != "university" && unit.kind != "institute" {
                fail("统一社会信用代码", "unit \(unit.id) is neither a university nor an institute; enterprises file demands")
            } else if let region = row.regionCode, region.value != unit.region {
                fail("所在市州", "unit \(unit.id) is registered in \(unit.region), not \(region.value)")
            }
            unitIDs.append(unit.id)
            regions.append(unit.region)
        }
        guard outside.isEmpty else {
            let lines = outside.prefix(20).map(String.init).joined(separator: ", ")
            throw DomainError.forbidden("the units of lines \(lines) are outside your scope")
        }
        guard errors.isEmpty else { return .failure(ResultImport.Failure(errors)) }
        let filer = actor.map(\.bureauID) ?? bureauID
        var ids: [Int] = []
        ids.reserveCapacity(rows.count)
        try await ConstraintCatalog.translating {
            for start in stride(from: 0, to: rows.count, by: 1_000) {
                let range = start..<min(start + 1_000, rows.count)
                let batch = rows[range].map(\.input)
                // The CSV split 关键词 at commas, so a comma joins them safely.
                let keywords = batch.map { ($0.keywords ?? []).joined(separator: ",") }
                let inserted = try await tx.query(
                    """
                    INSERT INTO results (unit_id, region_code, filed_by_bureau_id, title, summary, domain, industry_chain, keywords,
                                         maturity, ip_status, contact_name, contact_phone, contact_email)
                    SELECT u, r, \(filer), ti, s, d, c, CASE WHEN k = '' THEN '{}'::text[] ELSE string_to_array(k, ',') END,
                           m, ip, cn, cp, ce
                    FROM unnest(\(Array(unitIDs[range])), \(Array(regions[range])), \(batch.map(\.title)),
                                \(batch.map(\.summary)), \(batch.map(\.domain)), \(batch.map(\.industryChain)), \(keywords),
                                \(batch.map(\.maturity)), \(batch.map(\.ipStatus)), \(batch.map(\.contactName)),
                                \(batch.map(\.contactPhone)), \(batch.map(\.contactEmail)))
                         WITH ORDINALITY AS given(u, r, ti, s, d, c, k, m, ip, cn, cp, ce, ord)
                    ORDER BY ord
                    RETURNING id
                    """
                ).decode(Int.self)
                ids += inserted
                progress(ids.count)
            }
        }
        try await AuditLog.append(
            actor: actor?.displayName ?? "jiebang results import", actorID: actor?.userID, action: "result.import",
            entity: "result", entityID: ids.first.map { "\($0)" } ?? "-", after: ["results": "\(ids.count)"], on: tx)
        return .success(ids)
    }
}

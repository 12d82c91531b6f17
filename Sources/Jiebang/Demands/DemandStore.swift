public import Postgres

/// Technology demands in PostgreSQL.
public enum DemandStore {
    /// Imports validated rows in one transaction: all of them, or (on any error) none.
    ///
    /// Each row's enterprise must be a verified unit (found by its credit code; a pending unit claiming
    /// the code is not, so a squatter never receives an enterprise's demands and contacts).
    /// - Parameters:
    ///   - programmeID: the programme the demands are collected for, if any.
    ///   - bureauID: the bureau filing on the enterprises' behalf, if any.
    ///   - progress: called after every 1,000 rows with the count so far.
    /// - Returns: the ids of the new demands, or the rows whose unit is unknown.
    public static func importRows(
        _ rows: [DemandImport.Row], programmeID: Int?, bureauID: Int?, actor: String, on tx: PostgresConnection,
        progress: (Int) -> Void = { _ in }
    ) async throws -> Result<[Int], DemandImport.Failure> {
        let codes = Array(Set(rows.map(\.creditCode.value)))
        var units: [String: Int] = [:]
        // Only a verified unit holds its code: a pending one may be squatting it (UnitVerification).
        for row in try await tx.query(
            "SELECT credit_code, id FROM units WHERE credit_code = ANY (\(codes)) AND verification = 'verified'"
        ) {
            let (code, id) = try row.decode((String, Int).self)
            units[code] = id
        }
        let unknown = rows.filter { units[$0.creditCode.value] == nil }.map {
            DemandImport.RowError(
                line: $0.line, column: "统一社会信用代码", message: "no verified unit has credit code \($0.creditCode.value)")
        }
        guard unknown.isEmpty else { return .failure(DemandImport.Failure(unknown)) }
        var ids: [Int] = []
        ids.reserveCapacity(rows.count)
        for start in stride(from: 0, to: rows.count, by: 1_000) {
            let batch = Array(rows[start..<min(start + 1_000, rows.count)])
            let inserted = try await tx.query(
                """
                INSERT INTO demands (programme_id, unit_id, filed_by_bureau_id, region_code, industry_chain, need,
                                     support_conditions, contact_name, contact_phone, contact_email, remarks)
                SELECT \(programmeID), u, \(bureauID), r, c, n, s, cn, cp, ce, rm
                FROM unnest(\(batch.map { units[$0.creditCode.value]! }), \(batch.map(\.regionCode.value)),
                            \(batch.map(\.industryChain)), \(batch.map(\.need)), \(batch.map(\.supportConditions)),
                            \(batch.map(\.contactName)), \(batch.map(\.contactPhone)), \(batch.map(\.contactEmail)),
                            \(batch.map(\.remarks)))
                     WITH ORDINALITY AS t(u, r, c, n, s, cn, cp, ce, rm, ord)
                ORDER BY ord
                RETURNING id
                """
            ).decode(Int.self)
            ids += inserted
            progress(ids.count)
        }
        try await AuditLog.append(
            actor: actor, action: "demand.import", entity: "programme", entityID: programmeID.map { "\($0)" } ?? "-",
            after: ["demands": "\(ids.count)"], on: tx)
        return .success(ids)
    }
}

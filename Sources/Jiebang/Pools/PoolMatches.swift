public import Foundation
public import Postgres

/// The stored matches between the demand pool and the result and talent pools (`pool_matches`), kept by the queue:
/// a change to a demand, a result or a talent requests its rematch in its own transaction (a trigger does), which
/// the `pools.rematch` job carries out, and the nightly
/// `pools.rematch_all` recomputes everything. The rules are in `SQL/definitions/26_pool_matches.sql`; this type
/// only runs them.
public enum PoolMatches {
    /// The pools a rematch is for.
    public enum Record: String, Codable, Sendable, CaseIterable {
        case demand
        case result
        case talent
    }

    /// What a full run did.
    public struct Run: Sendable, Hashable, CustomStringConvertible {
        public var id: Int
        /// Open demands, results and available talents matched.
        public var demands: Int
        public var results: Int
        public var talents: Int
        /// Pairs scored (they share a rare character pair) and pairs kept.
        public var candidates: Int
        public var matches: Int
        public var elapsed: Duration

        public var description: String {
            "run \(id): \(demands) open demands × \(results) results and \(talents) talents, \(candidates) candidate pairs scored, "
                + "\(matches) kept, in \(String(format: "%.1f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)) s"
        }
    }

    /// Carries out up to `batch` of the rematches changes requested, oldest first, in the caller's transaction (the
    /// `pools.rematch` job's); when more wait, the job is enqueued again.
    /// - Returns: how many records were rematched: 0 when a full run holds the pools (the job then comes back two
    ///   seconds later).
    @discardableResult
    public static func rematchRequested(batch: Int, on tx: PostgresConnection) async throws -> Int {
        try await tx.query("SELECT pool_rematch_requested(\(batch)::integer)").first?.decode(Int.self) ?? 0
    }

    /// Rematches one record now, in the caller's transaction.
    /// - Returns: false when a full run or the rematch job held the pools for more than five seconds: the record's
    ///   rematch is then requested instead.
    @discardableResult
    public static func rematch(_ record: Record, id: Int, on tx: PostgresConnection) async throws -> Bool {
        let rows = try await tx.query("SELECT pool_rematch(\(record.rawValue), \(id))")
        return try rows.first?.decode(Bool.self) ?? false
    }

    /// Recomputes every match, in the caller's transaction (which should allow it minutes: the statement
    /// timeout is lifted for it here).
    public static func rematchAll(on tx: PostgresConnection) async throws -> Run {
        let started = ContinuousClock.now
        try await tx.execute("SET LOCAL statement_timeout = 0")
        try await tx.execute("SET LOCAL work_mem = '256MB'")
        try await tx.execute("SET LOCAL jit = off")
        // The run's row is read by a second statement: the first's snapshot predates it.
        let run = try await tx.query("SELECT pool_rematch_all()").first?.decode(Int.self)
        let rows = try await tx.query("SELECT id, demands, results, talents, candidates, matches FROM pool_match_runs WHERE id = \(run)")
        guard let row = rows.first else {
            throw PostgresError(code: .invalidQuery, message: "pool_rematch_all() returned no run")
        }
        let (id, demands, results, talents, candidates, matches) = try row.decode((Int, Int, Int, Int, Int, Int).self)
        return Run(
            id: id, demands: demands, results: results, talents: talents, candidates: candidates, matches: matches,
            elapsed: ContinuousClock.now - started)
    }
}

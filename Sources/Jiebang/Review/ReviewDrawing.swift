public import Foundation
public import Postgres
import ReviewSolver

/// Runs a recorded draw (the `review.draw` job): builds the instance from the round's bids and the
/// pool, solves the fractional problem with the round's q (and the deterministic optimum, so the price
/// of q is visible), samples with the recorded seed, records inputs and outcome, and for a real draw
/// applies it — replacing any earlier draw's assignments — in the job's one transaction.
public enum ReviewDrawing {
    /// What a run did.
    public enum Result: Equatable, Sendable {
        /// The draw had already run (a repeated job): nothing changed.
        case alreadyRun
        /// A dry run recorded its preview.
        case previewed
        /// The draw's assignments replaced the round's.
        case applied(seats: Int, alternates: Int)
        /// The instance is infeasible; the draw is recorded as failed with this message.
        case failed(String)
    }

    /// Runs draw `number` of round `roundID` on `tx`.
    public static func run(roundID: Int, number: Int, on tx: PostgresConnection) async throws -> Result {
        guard let row = try await tx.query(
            """
            SELECT d.status, d.dry_run, d.seed::text, r.status, r.panel_size, r.alternates, r.cap_numerator, r.cap_denominator,
                   p.bureau_id
            FROM review_draws d JOIN review_rounds r ON r.id = d.round_id JOIN programmes p ON p.id = r.programme_id
            WHERE d.round_id = \(roundID) AND d.number = \(number)
            FOR UPDATE OF d, r
            """
        ).first else { throw DomainError.notFound("review round \(roundID) has no draw \(number)") }
        let (drawStatus, dryRun, seedText, roundStatus, panelSize, alternates, numerator, denominator, bureauID) = try row.decode(
            (String, Bool, String, String, Int, Int, Int, Int, Int).self)
        guard drawStatus == "pending" else { return .alreadyRun }
        guard let seed = UInt64(seedText) else { throw DomainError.invalid("seed", "is not a 64-bit seed: \(seedText)") }
        if roundStatus == "closed" {
            return try await fail(roundID: roundID, number: number, inputs: nil, "the review round was closed before the draw ran", on: tx)
        }
        let inputs = try await ReviewInstanceBuilder.inputs(
            roundID: roundID, bureauID: bureauID, panelSize: panelSize, alternates: alternates,
            q: denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)", on: tx)
        let instance: Instance
        let fractional: FractionalAssignment
        let optimum: FractionalAssignment
        do {
            instance = try inputs.instance()
            fractional = try instance.solveFractional()
            optimum = instance.cap == .one ? fractional : try instance.with(cap: .one).optimum()
        } catch {
            return try await fail(roundID: roundID, number: number, inputs: inputs, describe(error, inputs: inputs), on: tx)
        }
        let draw = fractional.sample(seed: seed)
        let outcome = ReviewOutcome(draw)
        var affinityOf: [String: Int] = [:]
        for entry in inputs.affinity { affinityOf[entry.expert + "/" + entry.bid] = entry.value }
        let drawnAffinity = draw.assignments.reduce(0) { $0 + (affinityOf[$1.expert + "/" + $1.bid] ?? 0) }
        if !dryRun {
            try await tx.execute(
                "UPDATE review_draws SET status = 'superseded' WHERE round_id = \(roundID) AND status = 'applied' AND number <> \(number)")
        }
        try await tx.execute(
            """
            UPDATE review_draws
            SET status = \(dryRun ? "previewed" : "applied"), inputs = \(PostgresJSON(inputs)), outcome = \(PostgresJSON(outcome)),
                fingerprint = \(String(instance.fingerprint, radix: 16)),
                expected_affinity = \(String(fractional.objectiveUnits))::numeric / \(fractional.denominator),
                optimum_affinity = \(String(optimum.objectiveUnits))::numeric / \(optimum.denominator),
                drawn_affinity = \(drawnAffinity), finished_at = now()
            WHERE round_id = \(roundID) AND number = \(number)
            """)
        guard !dryRun else { return .previewed }
        try await apply(outcome, roundID: roundID, number: number, on: tx)
        try await AuditLog.append(
            actor: "system", action: "review_draw.apply", entity: "review_round", entityID: String(roundID),
            after: [
                "draw": String(number), "seed": seedText, "fingerprint": String(instance.fingerprint, radix: 16),
                "seats": String(outcome.assignments.count), "alternates": String(outcome.alternates.count),
            ], on: tx)
        return .applied(seats: outcome.assignments.count, alternates: outcome.alternates.count)
    }

    /// Replaces the round's assignments by `outcome`'s (the caller has marked earlier applied draws superseded).
    static func apply(_ outcome: ReviewOutcome, roundID: Int, number: Int, on tx: PostgresConnection) async throws {
        try await ConstraintCatalog.translating {
            try await tx.execute("DELETE FROM review_assignments WHERE round_id = \(roundID)")
            var rank: [String: Int] = [:]
            let alternateRanks = outcome.alternates.map { pair -> Int in
                rank[pair.bid, default: 0] += 1
                return rank[pair.bid]!
            }
            let pairs = outcome.assignments + outcome.alternates
            let roles = outcome.assignments.map { _ in "panel" } + outcome.alternates.map { _ in "alternate" }
            let ranks = outcome.assignments.map { _ in 0 } + alternateRanks
            try await tx.execute(
                """
                INSERT INTO review_assignments (round_id, draw_number, bid_id, expert_id, organisation_key, role, alternate_rank)
                SELECT \(roundID), \(number), b::bigint, e::bigint, '', r, NULLIF(k, 0)
                FROM unnest(\(pairs.map(\.bid))::text[], \(pairs.map(\.expert))::text[], \(roles)::text[], \(ranks)::int[])
                    AS t (b, e, r, k)
                """)
            try await tx.execute(
                "UPDATE review_rounds SET status = 'assigned', revision = revision + 1 WHERE id = \(roundID) AND status <> 'closed'")
        }
        let experts = Set(outcome.assignments.map(\.expert) + outcome.alternates.map(\.expert)).compactMap { Int($0) }.sorted()
        try await ReviewNotices.tellExperts(roundID: roundID, experts: experts, subject: "review_round:\(roundID):draw:\(number)", on: tx)
    }

    /// Records the draw as failed, with the inputs when they were built.
    static func fail(roundID: Int, number: Int, inputs: ReviewInputs?, _ message: String, on tx: PostgresConnection) async throws -> Result {
        try await tx.execute(
            """
            UPDATE review_draws SET status = 'failed', failure = \(message), inputs = \(inputs.map(PostgresJSON.init)), finished_at = now()
            WHERE round_id = \(roundID) AND number = \(number)
            """)
        try await AuditLog.append(
            actor: "system", action: "review_draw.fail", entity: "review_round", entityID: String(roundID),
            after: ["draw": String(number), "failure": message], on: tx)
        return .failed(message)
    }

    /// The solver's refusal as a sentence that names the bids (by id) and the constraint.
    static func describe(_ error: ReviewSolverError, inputs: ReviewInputs) -> String {
        switch error {
        case .infeasible(let bids, let reason):
            let shown = bids.prefix(20).map { "bid \($0)" }.joined(separator: ", ")
            let more = bids.count > 20 ? " and \(bids.count - 20) more" : ""
            return "too few experts: \(shown)\(more) cannot be staffed with \(inputs.k) experts and \(inputs.alternates) alternates: \(reason)"
        case .invalidInput(let text):
            return "the round's inputs are not a valid instance: \(text)"
        }
    }
}

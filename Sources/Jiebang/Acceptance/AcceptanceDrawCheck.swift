public import Postgres
import ReviewSolver

/// `jiebang review verify-acceptance-draw`: recomputes an acceptance's expert draw from its recorded inputs
/// and revealed seed, as `ReviewDrawCheck` does for a review round, and compares the result with the recorded
/// outcome and with the panel seated.
///
/// The draw caps each expert's chance at q = 1/2 and falls back to q = 1 only when the pool is too small for
/// that cap, so a recorded q of 1 is checked too: if the cap of 1/2 was feasible, the inputs were changed.
public enum AcceptanceDrawCheck {
    /// Checks the draw of acceptance `acceptanceID` (its latest, after any redraw).
    /// - Throws: `DomainError.notFound` for an unknown acceptance.
    public static func verify(acceptanceID: Int, on db: PostgresConnection) async throws -> ReviewDrawCheck.Finding {
        guard
            let row = try await db.query(
                """
                SELECT status, seed::text, seed_sha256, inputs, outcome, failure FROM acceptances WHERE id = \(acceptanceID)
                """
            ).first
        else { throw DomainError.notFound("there is no acceptance \(acceptanceID)") }
        let status = try row.decode(String.self, at: 0)
        let seedText = try row.decode(String.self, at: 1)
        let digest = try row.decode(String.self, at: 2)
        guard SHA256Hex.digest(of: Array(seedText.utf8)) == digest, let seed = UInt64(seedText) else { return .seedDoesNotMatchDigest }
        guard let inputs = try row.decode(PostgresJSON<ReviewInputs>?.self, at: 3)?.value else {
            return status == "requested" ? .pending : .failureReproduced(try row.decode(String?.self, at: 5) ?? "no inputs were recorded")
        }
        if inputs.q == "1" {
            var capped = inputs
            capped.q = "1/2"
            if (try? capped.instance().solveFractional()) != nil {
                return .inputsChanged(recorded: "q = 1", recomputed: "q = 1/2 is feasible for these inputs")
            }
        }
        let recomputed: ReviewOutcome
        do {
            recomputed = ReviewOutcome(try inputs.instance().solveFractional().sample(seed: seed))
        } catch {
            return status == "draw_failed" ? .failureReproduced(ReviewDrawing.describe(error, inputs: inputs)) : .outcomeDiffers
        }
        guard status != "draw_failed", recomputed == (try row.decode(PostgresJSON<ReviewOutcome>?.self, at: 4)?.value) else {
            return .outcomeDiffers
        }
        var seated = Set(
            try await db.query("SELECT expert_id FROM acceptance_panel WHERE acceptance_id = \(acceptanceID)").decode(Int.self))
        var missing = 0
        for pair in recomputed.assignments where seated.remove(Int(pair.expert) ?? -1) == nil { missing += 1 }
        if missing > 0 || !seated.isEmpty { return .appliedDiffers(missing: missing, extra: seated.count) }
        return .reproduced(seats: recomputed.assignments.count, alternates: 0, applied: true)
    }
}

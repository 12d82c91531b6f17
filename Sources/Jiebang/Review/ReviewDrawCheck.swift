public import Postgres
import ReviewSolver

/// `jiebang review verify-draw`: recomputes a recorded draw from its recorded inputs, q and revealed
/// seed, and compares the result with the recorded outcome and with the assignments applied.
public enum ReviewDrawCheck {
    /// What the check found.
    public enum Finding: Equatable, Sendable, CustomStringConvertible {
        /// Seed, inputs and outcome agree, and for the applied draw the round's assignments too
        /// (`applied` false: a preview or a superseded draw, not compared with the round).
        case reproduced(seats: Int, alternates: Int, applied: Bool)
        /// The draw has not run yet: there is nothing to check.
        case pending
        /// The draw failed; the failure was recomputed identically.
        case failureReproduced(String)
        /// The revealed seed does not hash to the SHA-256 recorded before the draw.
        case seedDoesNotMatchDigest
        /// The recorded inputs are not those the draw was made from (the fingerprint differs).
        case inputsChanged(recorded: String, recomputed: String)
        /// Recomputing gives another outcome than the one recorded.
        case outcomeDiffers
        /// The assignments in the round are not the ones the draw gave.
        case appliedDiffers(missing: Int, extra: Int)

        /// Whether the draw checks out.
        public var isSound: Bool {
            switch self {
            case .reproduced, .failureReproduced: true
            default: false
            }
        }

        public var description: String {
            switch self {
            case .reproduced(let seats, let alternates, let applied):
                "reproduced: the seed matches its SHA-256, the inputs their fingerprint, and the recomputed \(seats) seats and \(alternates) alternates are the ones recorded"
                    + (applied ? " and applied" : " (a preview or superseded draw: the round's assignments are not its)")
            case .pending: "the draw has not run yet"
            case .failureReproduced(let message): "the draw failed, and recomputing fails the same way: \(message)"
            case .seedDoesNotMatchDigest: "MISMATCH: the revealed seed does not match the SHA-256 recorded before the draw"
            case .inputsChanged(let recorded, let recomputed):
                "MISMATCH: the recorded inputs do not have the recorded fingerprint (recorded \(recorded), recomputed \(recomputed))"
            case .outcomeDiffers: "MISMATCH: recomputing from the inputs and the seed gives another outcome than the one recorded"
            case .appliedDiffers(let missing, let extra):
                "MISMATCH: the applied assignments differ from the draw (\(missing) drawn pairs missing, \(extra) pairs not drawn)"
            }
        }
    }

    /// The round's applied draw, or its latest draw when none is applied.
    public static func defaultDraw(roundID: Int, on db: PostgresConnection) async throws -> Int {
        guard let number = try await db.query(
            """
            SELECT number FROM review_draws WHERE round_id = \(roundID)
            ORDER BY status = 'applied' DESC, number DESC LIMIT 1
            """
        ).first?.decode(Int.self) else { throw DomainError.notFound("review round \(roundID) has no draws") }
        return number
    }

    /// Checks draw `number` of round `roundID`.
    public static func verify(roundID: Int, number: Int, on db: PostgresConnection) async throws -> Finding {
        guard let row = try await db.query(
            """
            SELECT status, seed::text, seed_sha256, inputs, outcome, fingerprint, failure
            FROM review_draws WHERE round_id = \(roundID) AND number = \(number)
            """
        ).first else { throw DomainError.notFound("review round \(roundID) has no draw \(number)") }
        let status = try row.decode(String.self, at: 0)
        let seedText = try row.decode(String.self, at: 1)
        let digest = try row.decode(String.self, at: 2)
        guard status != "pending" else { return .pending }
        guard SHA256Hex.digest(of: Array(seedText.utf8)) == digest, let seed = UInt64(seedText) else {
            return .seedDoesNotMatchDigest
        }
        guard let inputs = try row.decode(PostgresJSON<ReviewInputs>?.self, at: 3)?.value else {
            return .failureReproduced(try row.decode(String?.self, at: 6) ?? "no inputs were recorded")
        }
        let instance: Instance
        do {
            instance = try inputs.instance()
        } catch {
            return .inputsChanged(recorded: try row.decode(String?.self, at: 5) ?? "none", recomputed: "\(error)")
        }
        let recomputedFingerprint = String(instance.fingerprint, radix: 16)
        if status == "failed" {
            do {
                _ = try instance.solveFractional()
                return .outcomeDiffers
            } catch {
                return .failureReproduced(ReviewDrawing.describe(error, inputs: inputs))
            }
        }
        let recordedFingerprint = try row.decode(String?.self, at: 5) ?? ""
        guard recordedFingerprint == recomputedFingerprint else {
            return .inputsChanged(recorded: recordedFingerprint, recomputed: recomputedFingerprint)
        }
        let recomputed: ReviewOutcome
        do {
            recomputed = ReviewOutcome(try instance.draw(seed: seed))
        } catch {
            return .outcomeDiffers
        }
        guard recomputed == (try row.decode(PostgresJSON<ReviewOutcome>?.self, at: 4)?.value) else { return .outcomeDiffers }
        if status == "applied" {
            let rows = try await db.query(
                """
                SELECT expert_id::text, bid_id::text, role = 'panel' AND promoted_at IS NULL
                FROM review_assignments
                WHERE round_id = \(roundID) AND draw_number = \(number) AND source = 'drawn'
                """
            ).decode((String, String, Bool).self)
            var applied = Set(rows.map { "\($0.2 ? "panel" : "alternate") \($0.0) \($0.1)" })
            var missing = 0
            for pair in recomputed.assignments where applied.remove("panel \(pair.expert) \(pair.bid)") == nil { missing += 1 }
            for pair in recomputed.alternates where applied.remove("alternate \(pair.expert) \(pair.bid)") == nil { missing += 1 }
            if missing > 0 || !applied.isEmpty { return .appliedDiffers(missing: missing, extra: applied.count) }
        }
        return .reproduced(seats: recomputed.assignments.count, alternates: recomputed.alternates.count, applied: status == "applied")
    }
}

public import Postgres
import ReviewSolver

/// Runs the `acceptance.assign` job: draws the acceptance experts with the review's instance builder
/// and solver (the same conflict rules, affinity and organisation rule), from the pool of the
/// programme's bureau, with the seed recorded at the request, and seats them atomically.
///
/// The cap is q = 1/2 (no expert is on the panel with probability above one half, so who judges is
/// hard to predict) when the pool allows it after conflicts and the organisation rule, else 1.
public enum AcceptanceDrawing {
    /// What a run did.
    public enum Result: Equatable, Sendable {
        /// The panel was already drawn (a repeated job): nothing changed.
        case alreadyRun
        /// The panel is seated.
        case assigned(experts: [Int])
        /// Too few eligible experts: the acceptance is recorded as draw_failed with this message.
        case failed(String)
    }

    /// Draws the panel of acceptance `acceptanceID` on `tx`.
    public static func run(acceptanceID: Int, on tx: PostgresConnection) async throws -> Result {
        guard
            let row = try await tx.query(
                """
                SELECT a.status, a.seed::text, a.panel_size, a.project_id, a.attempt, p.bid_id, g.bureau_id, c.domain, c.industry_chain,
                       c.title || ' ' || c.task || ' ' || c.content || ' ' || b.technical_route
                FROM acceptances a JOIN projects p ON p.id = a.project_id JOIN programmes g ON g.id = p.programme_id
                JOIN challenges c ON c.id = p.challenge_id JOIN bids b ON b.id = p.bid_id
                WHERE a.id = \(acceptanceID)
                FOR NO KEY UPDATE OF a
                """
            ).first
        else { throw DomainError.notFound("there is no acceptance \(acceptanceID)") }
        let (status, seedText, panelSize, projectID, attempt, bid, bureau, domain, chain, text) = try row.decode(
            (String, String, Int, Int, Int, Int, Int, String, String, String).self)
        guard status == "requested" else { return .alreadyRun }
        guard let seed = UInt64(seedText) else { throw DomainError.invalid("seed", "is not a 64-bit seed: \(seedText)") }
        var inputs = try await ReviewInstanceBuilder.inputs(
            bids: [.init(bid: bid, domain: domain, industryChain: chain, text: text)], bureauID: bureau, panelSize: panelSize,
            alternates: 0, q: "1/2", loadCap: 1, on: tx)
        let draw: Draw
        do {
            do {
                draw = try inputs.instance().solveFractional().sample(seed: seed)
            } catch {
                // Too few experts (after conflicts and the one-per-organisation rule) for the cap of 1/2.
                inputs.q = "1"
                draw = try inputs.instance().solveFractional().sample(seed: seed)
            }
        } catch {
            let message = ReviewDrawing.describe(error, inputs: inputs)
            try await tx.execute(
                """
                UPDATE acceptances SET status = 'draw_failed', failure = \(message), inputs = \(PostgresJSON(inputs)) WHERE id = \(acceptanceID)
                """)
            try await AuditLog.append(
                actor: "system", action: "acceptance.draw_fail", entity: "acceptance", entityID: String(acceptanceID),
                after: ["failure": message], on: tx)
            return .failed(message)
        }
        let outcome = ReviewOutcome(draw)
        let experts = outcome.assignments.compactMap { Int($0.expert) }.sorted()
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                INSERT INTO acceptance_panel (acceptance_id, expert_id, organisation_key)
                SELECT \(acceptanceID), e, '' FROM unnest(\(experts)::bigint[]) AS e
                """)
            try await tx.execute(
                """
                UPDATE acceptances SET status = 'assigned', inputs = \(PostgresJSON(inputs)), outcome = \(PostgresJSON(outcome)),
                       failure = NULL, assigned_at = now()
                WHERE id = \(acceptanceID)
                """)
            if attempt == 1 {
                try await tx.execute(
                    "UPDATE projects SET status = 'under_acceptance' WHERE id = \(projectID) AND status = 'acceptance_requested'")
            }
        }
        try await AuditLog.append(
            actor: "system", action: "acceptance.assign", entity: "acceptance", entityID: String(acceptanceID),
            after: ["seed": seedText, "experts": experts.map(String.init).joined(separator: ",")], on: tx)
        let template = NotificationTemplate.of(.acceptanceAssigned)
        let title = try await tx.query(
            "SELECT c.title FROM projects p JOIN challenges c ON c.id = p.challenge_id WHERE p.id = \(projectID)"
        ).first!.decode(String.self)
        var messages: [NotificationStore.Message] = []
        for expert in experts {
            let (subject, body) = try template.render(["challenge": title, "attempt": String(attempt)])
            messages.append(
                .init(
                    userID: expert, occasion: .acceptanceAssigned, subject: "acceptance:\(acceptanceID)", title: subject, body: body,
                    link: "/v1/acceptances/\(acceptanceID)"))
        }
        try await NotificationStore.send(messages, on: tx)
        return .assigned(experts: experts)
    }
}

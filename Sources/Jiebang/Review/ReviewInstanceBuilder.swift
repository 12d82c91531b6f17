public import Postgres

/// Reads a round's instance from the database: its formally passed bids, the bureau's available pool,
/// the affinities (`Affinity`) and the conflicts (`review_conflict_reason`, the same function the
/// assignment trigger calls, so the draw and the database agree on every rule).
public enum ReviewInstanceBuilder {
    /// The inputs of a draw of round `roundID`; ids in ascending order so the instance is a function of
    /// the database's state.
    public static func inputs(
        roundID: Int, bureauID: Int, panelSize: Int, alternates: Int, q: String, on db: PostgresConnection
    ) async throws -> ReviewInputs {
        let bids = try await db.query(
            """
            SELECT b.id, c.domain, c.industry_chain, c.title || ' ' || c.task || ' ' || c.content || ' ' || b.technical_route
            FROM bids b
            JOIN review_round_challenges rc ON rc.challenge_id = b.challenge_id
            JOIN challenges c ON c.id = b.challenge_id
            WHERE rc.round_id = \(roundID) AND b.status = 'formal_passed'
            ORDER BY b.id
            """
        ).decode((Int, String, String, String).self)
        return try await inputs(
            bids: bids.map { Subject(bid: $0.0, domain: $0.1, industryChain: $0.2, text: $0.3) }, bureauID: bureauID,
            panelSize: panelSize, alternates: alternates, q: q, loadCap: nil, on: db)
    }

    /// A bid to seat experts on, with the text its affinity is measured against.
    public struct Subject: Sendable, Hashable {
        public var bid: Int
        public var domain: String
        public var industryChain: String
        public var text: String

        /// Creates a subject.
        public init(bid: Int, domain: String, industryChain: String, text: String) {
            self.bid = bid
            self.domain = domain
            self.industryChain = industryChain
            self.text = text
        }
    }

    /// The inputs of a draw over `bids` from the available pool of bureau `bureauID`: the review round's
    /// and the acceptance's (`AcceptanceDrawing`) alike. `loadCap` replaces every expert's own cap when set.
    public static func inputs(
        bids: [Subject], bureauID: Int, panelSize: Int, alternates: Int, q: String, loadCap: Int?, on db: PostgresConnection
    ) async throws -> ReviewInputs {
        let ids = bids.map(\.bid)
        let experts = try await db.query(
            """
            SELECT e.user_id, e.organisation_key, e.load_cap, e.domains, e.industry_chains, e.keywords
            FROM experts e JOIN users u ON u.id = e.user_id
            WHERE e.bureau_id = \(bureauID) AND e.retired_at IS NULL AND e.available AND u.disabled_at IS NULL
            ORDER BY e.user_id
            """
        ).decode((Int, String, Int, [String], [String], [String]).self)
        let conflicts = try await db.query(
            """
            SELECT e.user_id, b.id
            FROM experts e JOIN users u ON u.id = e.user_id CROSS JOIN unnest(\(ids)::bigint[]) AS b (id)
            WHERE e.bureau_id = \(bureauID) AND e.retired_at IS NULL AND e.available AND u.disabled_at IS NULL
              AND review_conflict_reason(e.user_id, b.id) IS NOT NULL
            ORDER BY b.id, e.user_id
            """
        ).decode((Int, Int).self)
        let conflicted = Set(conflicts.map { "\($0.0)/\($0.1)" })
        var affinity: [ReviewInputs.AffinityEntry] = []
        for bid in bids {
            let subject = Affinity.Subject(domain: bid.domain, industryChain: bid.industryChain, text: bid.text)
            for expert in experts where !conflicted.contains("\(expert.0)/\(bid.bid)") {
                let value = Affinity.score(
                    Affinity.Profile(domains: expert.3, industryChains: expert.4, keywords: expert.5), subject)
                if value > 0 { affinity.append(.init(expert: String(expert.0), bid: String(bid.bid), value: value)) }
            }
        }
        return ReviewInputs(
            k: panelSize, alternates: alternates, q: q,
            bids: bids.map { .init(id: String($0.bid)) },
            experts: experts.map { .init(id: String($0.0), org: $0.1, load: loadCap ?? $0.2) },
            affinity: affinity,
            conflicts: conflicts.map { .init(expert: String($0.0), bid: String($0.1)) })
    }
}

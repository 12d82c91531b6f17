import Foundation
import Jiebang
import JiebangTesting
import Postgres

/// A review round over a `BidWorld`: formally passed bids, a pool of experts, and panel seats.
///
/// The seats are written with SQL (`assign`), as the assignment job will write them once it exists:
/// an applied draw, then the assignments, then the round set to `assigned`. Swap `assign` for the
/// job when it lands.
struct ScoringWorld: Sendable {
    struct Expert: Sendable {
        var userID: Int
        var token: String
        var actor: Actor
    }

    var world: BidWorld
    var fixture: APIFixture { world.fixture }
    var db: PostgresClient { world.fixture.db }
    var round = 0
    /// The formally passed bids, in the order made (bid i is on challenge i % challenges).
    var bids: [Int] = []
    var experts: [Expert] = []

    /// - Parameters:
    ///   - bids: formally passed bids to make, spread over the challenges in turn.
    ///   - experts: experts in the province's pool, each of an organisation of their own.
    ///   - winners: each challenge's number of winners.
    static func make(
        _ db: PostgresClient, bids: Int, experts: Int, challenges: Int = 1, winners: Int = 1,
        deadline: Date = Date() + 7 * 86_400
    ) async throws -> ScoringWorld {
        var scoring = ScoringWorld(world: try await BidWorld.make(db, leads: bids, partners: bids, challenges: challenges))
        let world = scoring.world
        try await db.withTransaction { tx in
            // The challenges are published: only an amendment may change them, so the test steps around the trigger.
            try await tx.execute("SET LOCAL session_replication_role = replica")
            try await tx.execute("UPDATE challenges SET winners = \(winners) WHERE programme_id = \(world.programme)")
        }
        for index in 0..<bids {
            let challenge = world.challenges[index % challenges]
            let bid = try await world.consortium(lead: world.leads[index], partner: world.partners[index], challenge: challenge)
            try await Self.pass(bid, submittedMinutesAgo: bids - index, on: db)
            scoring.bids.append(bid)
        }
        try await db.withTransaction { tx in
            for index in 0..<experts {
                let login = "expert\(index)"
                let user = try await AccountStore.createUser(
                    .init(login: login, displayName: "专家\(index)", role: .expert), passwordHash: nil, by: "test", on: tx)
                try await tx.execute(
                    """
                    INSERT INTO experts (user_id, bureau_id, organisation, region_code)
                    VALUES (\(user), \(world.fixture.provinceBureau), \("评审专家单位\(index)"), '620000')
                    """)
                let token = try await AccountStore.issueToken(userID: user, kind: "api", label: nil, lifetime: .seconds(3600), on: tx)
                let actor = Actor(userID: user, displayName: login, role: .expert, unitID: nil, bureauID: nil, regionCode: nil)
                scoring.experts.append(Expert(userID: user, token: token.token.value, actor: actor))
            }
            scoring.round = try await tx.query(
                """
                INSERT INTO review_rounds (programme_id, name, panel_size, scoring_deadline)
                VALUES (\(world.programme), '2026年单位遴选评审', 5, \(deadline)) RETURNING id
                """
            ).first!.decode(Int.self)
            for challenge in world.challenges {
                try await tx.execute("INSERT INTO review_round_challenges (round_id, challenge_id) VALUES (\(scoring.round), \(challenge))")
            }
        }
        return scoring
    }

    /// Moves a draft bid through recommendation and a passed formal check, by SQL.
    static func pass(_ bid: Int, submittedMinutesAgo minutes: Int, on db: PostgresClient) async throws {
        try await db.withTransaction { tx in
            try await tx.execute(
                "UPDATE bids SET status = 'recommended', version = 1, submitted_at = now() - \(minutes) * interval '1 minute' WHERE id = \(bid)"
            )
            try await tx.execute(
                """
                INSERT INTO bid_formal_checks (bid_id, item, passed)
                SELECT \(bid), item, true FROM unnest(\(BidReview.formalCheckItems.map(\.code))) AS item
                """)
            try await tx.execute("UPDATE bids SET status = 'formal_passed' WHERE id = \(bid)")
        }
    }

    /// Writes seats as an applied draw would, and opens scoring (round `assigned`).
    /// - Parameters:
    ///   - seats: (bid, expert index, role) for each seat; role `panel` or `alternate`.
    /// - Returns: the assignment ids, in the order of `seats`.
    @discardableResult
    func assign(_ seats: [(bid: Int, expert: Int, role: String)]) async throws -> [Int] {
        try await db.withTransaction { tx in
            let number = try await tx.query(
                "SELECT COALESCE(max(number), 0) + 1 FROM review_draws WHERE round_id = \(round)"
            ).first!.decode(Int.self)
            let seed = "\(number * 7919)"
            try await tx.execute(
                """
                INSERT INTO review_draws (round_id, number, dry_run, status, seed, seed_sha256, finished_at)
                VALUES (\(round), \(number), false, 'applied', \(number * 7919), \(SHA256Hex.digest(of: Array(seed.utf8))), now())
                """)
            var ids: [Int] = []
            for seat in seats {
                ids.append(
                    try await tx.query(
                        """
                        INSERT INTO review_assignments (round_id, draw_number, bid_id, expert_id, organisation_key, role, alternate_rank)
                        SELECT \(round), \(number), \(seat.bid), user_id, organisation_key, \(seat.role),
                               CASE WHEN \(seat.role) = 'alternate' THEN 1 END
                        FROM experts WHERE user_id = \(experts[seat.expert].userID)
                        RETURNING id
                        """
                    ).first!.decode(Int.self))
            }
            try await tx.execute("UPDATE review_rounds SET status = 'assigned' WHERE id = \(round) AND status = 'preparing'")
            return ids
        }
    }

    /// Every bid gets the first `panel` experts as its panel; returns seat ids by [bid index][expert index].
    func assignPanels(_ panel: Int) async throws -> [[Int]] {
        let seats = bids.flatMap { bid in (0..<panel).map { (bid: bid, expert: $0, role: "panel") } }
        let ids = try await assign(seats)
        return stride(from: 0, to: ids.count, by: panel).map { Array(ids[$0..<($0 + panel)]) }
    }

    /// The score body giving `value` to every default criterion.
    static func sheet(_ value: Int, innovation: Int? = nil) -> [String: Any] {
        let keys = ["rd_foundation", "innovation", "technical_plan", "funding"]
        return [
            "items": keys.map { key in
                ["criterion": key, "score": key == "innovation" ? (innovation ?? value) : value, "comment": "评审意见：\(key)"] as [String: Any]
            }
        ]
    }

    /// Moves the round's deadline into the past (or anywhere), by SQL.
    func setDeadline(_ date: Date) async throws {
        try await db.execute("UPDATE review_rounds SET scoring_deadline = \(date) WHERE id = \(round)")
    }

    /// Tokens for the test client: the fixture's people and the experts as `expert0`, `expert1`, ...
    var everyone: APIFixture {
        var fixture = self.fixture
        for (index, expert) in experts.enumerated() { fixture.tokens["expert\(index)"] = expert.token }
        return fixture
    }

    /// Backdates a challenge's notice so its 公示 period is over (bypassing the triggers, as only a test may).
    func endPeriod(of challenge: Int) async throws {
        try await db.withTransaction { tx in
            try await tx.execute("SET LOCAL session_replication_role = replica")
            try await tx.execute(
                """
                UPDATE award_notices SET published_at = now() - interval '10 days', objections_close_at = now() - interval '1 second'
                WHERE challenge_id = \(challenge)
                """)
        }
    }
}

import Foundation
import Jiebang
import JiebangTesting
import Postgres

/// A programme with formally passed bids (each led by a Lanzhou unit with a Jinchang partner) and a
/// pool of experts in the provincial bureau, for review rounds.
struct ReviewWorld: Sendable {
    var bids: BidWorld
    var publisher: Actor
    var bidIDs: [Int] = []
    /// The pool, in creation order: expert `i` works for `新材料研究院\(i / orgSize)` (new-material experts).
    var experts: [Int] = []

    var db: PostgresClient { bids.fixture.db }

    /// - Parameters:
    ///   - bids: formally passed bids, spread over `challenges`.
    ///   - experts: experts in the pool, `sharedOrganisations` of them pairwise in one organisation.
    ///   - loadCap: each expert's load cap.
    static func make(
        _ db: PostgresClient, bids count: Int, experts expertCount: Int, challenges: Int = 1, loadCap: Int = 10
    ) async throws -> ReviewWorld {
        let bidWorld = try await BidWorld.make(db, leads: count, partners: count, challenges: challenges)
        let fixture = bidWorld.fixture
        func actor(_ person: String) async throws -> Actor {
            try await db.withConnection { try await AccountStore.authenticate(AccessToken(value: fixture.tokens[person]!), on: $0)! }
        }
        var world = ReviewWorld(bids: bidWorld, publisher: try await actor("publisher"))
        let lanzhou = try await actor("lanzhou")
        for index in 0..<count {
            let lead = bidWorld.leads[index]
            let bid = try await bidWorld.consortium(
                lead: lead, partner: bidWorld.partners[index], challenge: bidWorld.challenges[index % challenges])
            try await db.withTransaction { tx in
                _ = try await BidStore.submit(id: bid, ifRevision: nil, by: lead.actor, on: tx)
                _ = try await BidReview.decide(bidID: bid, .recommend, opinion: "同意推荐", by: lanzhou, on: tx)
                _ = try await BidReview.formalCheck(
                    bidID: bid, BidReview.formalCheckItems.map { .init(item: $0.code, passed: true) }, by: world.publisher, on: tx)
            }
            world.bidIDs.append(bid)
        }
        try await db.withTransaction { tx in
            for index in 0..<expertCount {
                let user = try await AccountStore.createUser(
                    .init(login: "reviewer\(index)", displayName: "评审专家\(index)", role: .expert), passwordHash: nil, by: "test", on: tx)
                let keywords = index % 2 == 0 ? ["稀土", "永磁"] : ["电池"]
                try await tx.execute(
                    """
                    INSERT INTO experts (user_id, bureau_id, organisation, region_code, domains, industry_chains, keywords, load_cap)
                    VALUES (\(user), \(fixture.provinceBureau), \("新材料研究院\(index)"), '620500',
                            \(index % 3 == 0 ? ["新材料"] : ["电子信息"]), \(["有色冶金"]), \(keywords), \(loadCap))
                    """)
                world.experts.append(user)
            }
        }
        return world
    }

    /// Starts a round over every challenge.
    func round(panelSize: Int = 3, alternates: Int = 1, q: String = "1") async throws -> Int {
        try await db.withTransaction { tx in
            try await ReviewRoundStore.create(
                .init(
                    programmeID: bids.programme, name: "第一轮评审", challengeIDs: bids.challenges, panelSize: panelSize,
                    alternates: alternates, q: q, scoringDeadline: Date() + 30 * 86_400),
                by: publisher, on: tx
            ).id
        }
    }

    /// Requests a draw and runs it as the worker would.
    func draw(_ round: Int, dryRun: Bool = false) async throws -> (ReviewRound.DrawRecord, ReviewDrawing.Result) {
        let record = try await db.withTransaction {
            try await ReviewRoundStore.requestDraw(roundID: round, dryRun: dryRun, by: publisher, on: $0)
        }
        let result = try await db.withTransaction { try await ReviewDrawing.run(roundID: round, number: record.number, on: $0) }
        return (record, result)
    }

    /// The expert's actor.
    func expertActor(_ id: Int) -> Actor {
        Actor(userID: id, displayName: "评审专家", role: .expert, unitID: nil, bureauID: nil, regionCode: nil)
    }

    /// Active assignments: (bid, expert, role).
    func active(_ round: Int) async throws -> [(bid: Int, expert: Int, role: String)] {
        try await db.query(
            "SELECT bid_id, expert_id, role FROM review_assignments WHERE round_id = \(round) AND status = 'active' ORDER BY bid_id, expert_id"
        ).decode((Int, Int, String).self).map { (bid: $0.0, expert: $0.1, role: $0.2) }
    }
}

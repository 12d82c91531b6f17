import Foundation
import Jiebang
import JiebangTesting
import Postgres

/// A programme with published challenges, many lead units and a partner unit, each with a unit admin and a token.
struct BidWorld: Sendable {
    struct Person: Sendable {
        var unitID: Int
        var userID: Int
        var token: String
        var actor: Actor
    }

    var fixture: APIFixture
    var programme = 0
    var challenges: [Int] = []
    var leads: [Person] = []
    var partners: [Person] = []

    /// - Parameters:
    ///   - leads: lead units to create (all in Lanzhou, 620100).
    ///   - partners: partner units to create (in Jinchang, 620300).
    ///   - challenges: published challenges, each with two indicators.
    ///   - oneLiveBidPerUnit: whether a unit may be in one live bid of the programme only.
    static func make(
        _ db: PostgresClient, leads: Int, partners: Int = 1, challenges: Int = 1, minPartners: Int = 1,
        oneLiveBidPerUnit: Bool = true
    ) async throws -> BidWorld {
        var world = BidWorld(fixture: try await APIFixture.make(db))
        let publisher = try await db.withConnection {
            try await AccountStore.authenticate(AccessToken(value: world.fixture.tokens["publisher"]!), on: $0)!
        }
        try await db.withTransaction { tx in
            var input = ProgrammeStore.Input(
                name: "2026年甘肃省产业科技创新揭榜挂帅", year: 2026, applicationOpensAt: Date() - 86_400,
                applicationClosesAt: Date() + 200 * 86_400)
            input.minPartners = minPartners
            input.oneLiveBidPerUnit = oneLiveBidPerUnit
            world.programme = try await ProgrammeStore.create(input, by: publisher, on: tx).id
            let body = try JSONSerialization.data(withJSONObject: Bodies.challenge())
            let challenge = try JSONDecoder.api.decode(ChallengeDrafting.Input.self, from: body)
            for index in 0..<challenges {
                var input = challenge
                input.title = "\(challenge.title)（\(index + 1)）"
                let id = try await ChallengeDrafting.create(programmeID: world.programme, input, by: publisher, on: tx).id
                _ = try await ChallengeDrafting.publish(id: id, ifRevision: nil, by: publisher, on: tx)
                world.challenges.append(id)
            }
            for index in 0..<(leads + partners) {
                let isLead = index < leads
                let unit = try await UnitStore.register(
                    APIFixture.unit(
                        name: isLead ? "兰州牵头企业\(index)" : "金昌参与单位\(index)",
                        code: "91620\(isLead ? "100" : "300")MA" + String(format: "%07d", index), region: isLead ? "620100" : "620300"),
                    admin: nil, by: APIFixture.system, on: tx
                ).id
                let login = "bidder\(index)"
                let user = try await AccountStore.createUser(
                    .init(login: login, displayName: login, role: .unitAdmin, unitID: unit), passwordHash: nil, by: "test", on: tx)
                let token = try await AccountStore.issueToken(userID: user, kind: "api", label: nil, lifetime: .seconds(3600), on: tx)
                let actor = Actor(userID: user, displayName: login, role: .unitAdmin, unitID: unit, bureauID: nil, regionCode: nil)
                let person = Person(unitID: unit, userID: user, token: token.token.value, actor: actor)
                if isLead { world.leads.append(person) } else { world.partners.append(person) }
            }
        }
        return world
    }

    /// Content that passes at submission: total 10,000,000 CNY, requesting exactly the 10% cap.
    static func content(requestedFen: Int64 = 100_000_000) -> BidContent {
        BidContent(
            technicalRoute: "采用晶界扩散与热压成形相结合的技术路线，完成中试验证。", rdFoundation: "拥有省级工程技术研究中心和中试线。",
            indicatorAnswers: ["最大磁能积达到54 MGOe", "矫顽力达到21 kOe"], totalInvestmentFen: 1_000_000_000,
            selfFundingFen: 500_000_000, requestedFundingFen: requestedFen,
            team: [.init(name: "王强", title: "正高级工程师", unit: "兰州牵头企业", role: "项目负责人")], completionCommitment: true)
    }

    static let part = BidStore.Part(partRole: "材料表征与测试", tasks: "负责磁性能测试与失效分析", budgetShareFen: 50_000_000, contribution: "检测平台")

    /// A draft bid of `lead` for `challenge` with `partner` invited and (if `accepted`) accepted.
    func consortium(lead: Person, partner: Person?, challenge: Int, accepted: Bool = true, content: BidContent = content())
        async throws -> Int
    {
        try await fixture.db.withTransaction { tx in
            let bid = try await BidStore.create(challengeID: challenge, content, by: lead.actor, on: tx).id
            if let partner {
                _ = try await BidStore.invite(id: bid, unitID: partner.unitID, by: lead.actor, on: tx)
                if accepted {
                    _ = try await BidStore.respond(
                        id: bid, unitID: partner.unitID, accept: true, part: Self.part, by: partner.actor, on: tx)
                }
            }
            return bid
        }
    }

    /// Moves a published challenge's deadline into the past, by an amendment as the rules demand.
    func closeWindow(of challenge: Int) async throws {
        try await fixture.db.withTransaction { tx in
            try await tx.execute(
                """
                INSERT INTO challenge_amendments (challenge_id, version, reason, changes)
                SELECT id, version + 1, '提前截止申报', '{"applicationDeadline": "past"}' FROM challenges WHERE id = \(challenge)
                """)
            try await tx.execute(
                "UPDATE challenges SET application_deadline = now() - interval '1 second', version = version + 1 WHERE id = \(challenge)")
        }
    }
}

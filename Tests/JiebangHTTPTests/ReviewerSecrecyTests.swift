import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Postgres
import Testing

@Suite("Who reviews a bid is never shown to its units")
struct ReviewerSecrecyTests {
    @Test(
        "The lead and its partner read their bid, its submissions, its formal check, their bid list and their notifications while three experts score it, and no answer names an expert, a login or an expert's organisation"
    )
    func reviewersStayHidden() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 3)
            let seats = try await world.assignPanels(3)
            let keys = ["rd_foundation", "innovation", "technical_plan", "funding"]
            try await db.withTransaction { tx in
                let actor = world.experts[0].actor
                _ = try await ScoreSheet.save(
                    assignmentID: seats[0][0], keys.map { .init(criterion: $0, score: 80) }, by: actor, on: tx)
                _ = try await ScoreSheet.submit(assignmentID: seats[0][0], by: actor, on: tx)
            }
            var everyone = world.everyone
            everyone.tokens["lead"] = world.world.leads[0].token
            everyone.tokens["partner"] = world.world.partners[0].token
            let people = everyone
            let bid = world.bids[0]
            let secrets = (0..<3).flatMap { ["expert\($0)", "专家\($0)", "评审专家单位\($0)"] }
            let routes = [
                "/v1/bids/\(bid)", "/v1/bids/\(bid)/submissions", "/v1/bids/\(bid)/formal-check", "/v1/bids",
                "/v1/notifications", "/v1/me",
            ]
            try await people.application().test(.router) { client in
                var read = 0
                for person in ["lead", "partner"] {
                    for route in routes {
                        let reply = try await client.call(.get, route, as: person, fixture: people)
                        #expect(reply.status.code < 500, "\(route) as \(person)")
                        guard reply.status == .ok else { continue }
                        read += 1
                        let texts = Self.texts(in: reply.json)
                        for secret in secrets {
                            #expect(!texts.contains { $0.contains(secret) }, "\(route) as \(person) names \(secret)")
                        }
                    }
                }
                // The bid, its submissions and the list answer both units: the check looked at real answers.
                #expect(read >= 6)
                // The names are real: the expert's own account answers with its login.
                let seen = try await client.call(.get, "/v1/me", as: "expert0", fixture: people)
                #expect(Self.texts(in: seen.json).contains { $0.contains("expert0") })
            }
        }
    }

    /// Every string in a JSON value, keys included.
    static func texts(in json: Any?) -> [String] {
        switch json {
        case let text as String: [text]
        case let list as [Any]: list.flatMap { texts(in: $0) }
        case let object as [String: Any]: object.flatMap { [$0.key] + texts(in: $0.value) }
        default: []
        }
    }
}

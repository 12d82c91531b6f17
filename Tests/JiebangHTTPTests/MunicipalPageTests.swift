import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Logging
import Postgres
import Testing

@testable import JiebangHTTP

@Suite("The municipal bureau's workspace")
struct MunicipalPageTests {
    @Test(
        "A recommender recommends within the quota, returns with an opinion, and is refused past the quota, without the token and for another region"
    )
    func decisions() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 3, partners: 3)
            var made: [Int] = []
            for index in 0..<3 {
                made.append(
                    try await world.consortium(lead: world.leads[index], partner: world.partners[index], challenge: world.challenges[0]))
            }
            let bids = made
            try await db.withTransaction { tx in
                for bid in bids {
                    try await tx.execute("UPDATE bids SET status = 'submitted', version = 1, submitted_at = now() WHERE id = \(bid)")
                }
                try await tx.execute(
                    "INSERT INTO recommendation_quotas (programme_id, region_code, quota) VALUES (\(world.programme), '620100', 1)")
            }
            let people = world.fixture
            let lanzhou = try #require(people.tokens["lanzhou"])
            let csrf = ExpertPageTests.csrf(lanzhou)
            @Sendable func status(_ bid: Int) async throws -> String? {
                try await db.withConnection {
                    try await $0.query("SELECT status::text FROM bids WHERE id = \(bid)").first?.decode(String.self)
                }
            }
            try await people.application().test(.router) { client in
                let page = try await ExpertPageTests.page(client, .get, "/municipal", token: lanzhou)
                #expect(page.status == .ok)
                for bid in bids { #expect(page.html.contains("action=\"/municipal/bids/\(bid)/decision\"")) }
                #expect(page.html.contains("推荐名额：1 项，已用 <strong>0</strong> 项，剩余 <strong>1 项</strong>"))

                let forged = try await ExpertPageTests.page(
                    client, .post, "/municipal/bids/\(bids[0])/decision", token: lanzhou,
                    form: [("decision", "recommend"), ("opinion", "同意推荐")])
                #expect(forged.status == .forbidden)
                let noOpinion = try await ExpertPageTests.page(
                    client, .post, "/municipal/bids/\(bids[0])/decision", token: lanzhou, form: [("csrf", csrf), ("decision", "recommend")])
                #expect(noOpinion.status == .unprocessableContent)
                #expect(try await status(bids[0]) == "submitted")

                let recommended = try await ExpertPageTests.page(
                    client, .post, "/municipal/bids/\(bids[0])/decision", token: lanzhou,
                    form: [("csrf", csrf), ("decision", "recommend"), ("opinion", "技术路线可行，同意推荐")])
                #expect(recommended.status == .seeOther)
                #expect(recommended.headers[.location] == "/municipal?done=recommend")
                #expect(try await status(bids[0]) == "recommended")

                let overQuota = try await ExpertPageTests.page(
                    client, .post, "/municipal/bids/\(bids[1])/decision", token: lanzhou,
                    form: [("csrf", csrf), ("decision", "recommend"), ("opinion", "同意推荐")])
                #expect(overQuota.status == .conflict)
                #expect(overQuota.html.contains("未能处理"))
                #expect(overQuota.html.contains("推荐意见：本地区的 1 项推荐名额已用完"))
                #expect(overQuota.html.contains("推荐名额：1 项，已用 <strong>1</strong> 项，剩余 <strong>0 项</strong>"))
                #expect(try await status(bids[1]) == "submitted")

                let returned = try await ExpertPageTests.page(
                    client, .post, "/municipal/bids/\(bids[1])/decision", token: lanzhou,
                    form: [("csrf", csrf), ("decision", "return"), ("opinion", "请补充中试线产能数据")])
                #expect(returned.status == .seeOther)
                #expect(try await status(bids[1]) == "returned")

                let jinchang = try #require(people.tokens["jinchang"])
                let elsewhere = try await ExpertPageTests.page(
                    client, .post, "/municipal/bids/\(bids[2])/decision", token: jinchang,
                    form: [("csrf", ExpertPageTests.csrf(jinchang)), ("decision", "decline"), ("opinion", "不予推荐")])
                #expect(elsewhere.status == .notFound)
                #expect(try await status(bids[2]) == "submitted")
                let theirs = try await ExpertPageTests.page(client, .get, "/municipal", token: jinchang)
                #expect(!theirs.html.contains("/municipal/bids/\(bids[2])/decision"))

                let csv = try await ExpertPageTests.page(
                    client, .get, "/municipal/programmes/\(world.programme)/summary?format=csv", token: lanzhou)
                #expect(csv.status == .ok)
                #expect(csv.html.contains("兰州牵头企业0"))
                let publisher = try await ExpertPageTests.page(client, .get, "/municipal", token: people.tokens["publisher"])
                #expect(publisher.status == .forbidden)
            }
        }
    }
}

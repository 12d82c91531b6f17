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

@Suite("The bureau's programme dashboard")
struct BureauPageTests {
    @Test("The dashboard's figures are the database's: bids by status, per challenge and per region, review progress and overdue sheets")
    func figures() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 3, experts: 3, challenges: 2)
            _ = try await world.assignPanels(2)
            let programme = world.world.programme
            let people = world.everyone
            let publisher = try #require(people.tokens["publisher"])
            try await people.application().test(.router) { client in
                let list = try await ExpertPageTests.page(client, .get, "/bureau", token: publisher)
                #expect(list.status == .ok)
                #expect(list.html.contains("href=\"/bureau/programmes/\(programme)\""))

                let before = try await ExpertPageTests.page(client, .get, "/bureau/programmes/\(programme)", token: publisher)
                #expect(before.status == .ok)
                let (total, passed, seats) = try await db.withConnection { conn in
                    let total = try await conn.query("SELECT count(*) FROM bids WHERE programme_id = \(programme)").first!.decode(Int.self)
                    let passed = try await conn.query(
                        "SELECT count(*) FROM bids WHERE programme_id = \(programme) AND status = 'formal_passed'"
                    ).first!.decode(Int.self)
                    let seats = try await conn.query(
                        "SELECT count(*) FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id WHERE r.programme_id = \(programme) AND a.role = 'panel'"
                    ).first!.decode(Int.self)
                    return (total, passed, seats)
                }
                #expect(passed == 3)
                #expect(before.html.contains("<strong id=\"bid-total\">\(total)</strong>"))
                #expect(before.html.contains("<svg id=\"by-status\""))
                #expect(before.html.contains("<title>形式审查通过：\(passed)</title>"))
                #expect(before.html.contains("已提交评分 <strong>0</strong> / 应评 <strong>\(seats)</strong>"))
                #expect(before.html.contains("没有逾期未交的评分"))
                let regions = try await db.withConnection { conn in
                    try await conn.query("SELECT count(DISTINCT region_code) FROM bids WHERE programme_id = \(programme)").first!.decode(
                        Int.self)
                }
                let regionBars = before.html.components(separatedBy: "<svg id=\"by-region\"")[1].components(separatedBy: "</svg>")[0]
                #expect(regionBars.components(separatedBy: "<rect ").count - 1 == regions)

                try await world.setDeadline(Date() - 60)
                let after = try await ExpertPageTests.page(client, .get, "/bureau/programmes/\(programme)", token: publisher)
                #expect(after.html.contains("逾期未交 <strong>\(seats)</strong>"))
                #expect(after.html.contains("<td>专家0</td>"))

                let csv = try await ExpertPageTests.page(
                    client, .get, "/bureau/programmes/\(programme)/summary?format=csv", token: publisher)
                #expect(csv.status == .ok)
                #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(csv.html.hasPrefix("\u{FEFF}"))
                let pdf = try await ExpertPageTests.page(
                    client, .get, "/bureau/programmes/\(programme)/summary?format=pdf", token: publisher)
                #expect(pdf.status == .badRequest)

                let other = try await ExpertPageTests.page(
                    client, .get, "/bureau/programmes/\(programme)", token: people.tokens["otherPublisher"])
                #expect(other.status == .notFound)
                let expert = try await ExpertPageTests.page(
                    client, .get, "/bureau/programmes/\(programme)", token: people.tokens["expert0"])
                #expect(expert.status == .forbidden)
                let anonymous = try await ExpertPageTests.page(client, .get, "/bureau", token: nil)
                #expect(anonymous.status == .found)
            }
        }
    }
}

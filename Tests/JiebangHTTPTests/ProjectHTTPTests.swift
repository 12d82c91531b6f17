import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Postgres
import Testing

@Suite("Projects over the API")
struct ProjectHTTPTests {
    static func publisher(_ fixture: APIFixture) async throws -> Actor {
        try await fixture.db.withConnection {
            try await AccountStore.authenticate(AccessToken(value: fixture.tokens["publisher"]!), on: $0)!
        }
    }

    static func taskBook(bid: Int, target: Int = 55) -> [String: Any] {
        [
            "bidID": bid, "awardFen": 100_000_000,
            "indicators": [
                ["target": target, "targetText": "最大磁能积达到\(target) MGOe"],
                ["target": 20, "targetText": "矫顽力达到20 kOe"],
            ],
            "milestones": [["title": "中试线建成", "dueOn": "2027-12-31", "deliverables": "中试线验收报告"]],
            "tranches": [["amountFen": 30_000_000], ["milestone": 1, "amountFen": 70_000_000]],
        ]
    }

    @Test(
        "The publisher starts a project from a final award; a lowered indicator or an over-spent award is refused naming the field, and a second start is a conflict"
    )
    func start() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let setup = try await AccessMatrixTests.setUpProjects(
                fixture, publisher: try await Self.publisher(fixture))
            try await fixture.application().test(.router) { client in
                let lowered = try await client.call(
                    .post, "/v1/projects", as: "publisher", fixture: fixture,
                    json: Self.taskBook(bid: setup.awardedBid, target: 50))
                #expect(lowered.status == .unprocessableContent)
                #expect(lowered.problemFields == ["indicators[0].target"])
                var overspent = Self.taskBook(bid: setup.awardedBid)
                overspent["tranches"] = [
                    ["amountFen": 60_000_000], ["milestone": 1, "amountFen": 70_000_000],
                ]
                let tooMuch = try await client.call(
                    .post, "/v1/projects", as: "publisher", fixture: fixture, json: overspent)
                #expect(tooMuch.status == .unprocessableContent)
                #expect(tooMuch.problemFields == ["tranches"])
                #expect(
                    try await db.query("SELECT count(*) FROM projects WHERE bid_id = \(setup.awardedBid)")
                        .first!.decode(Int.self) == 0)
                let created = try await client.call(
                    .post, "/v1/projects", as: "publisher", fixture: fixture,
                    json: Self.taskBook(bid: setup.awardedBid))
                #expect(created.status == .created)
                #expect(created.object["status"] as? String == "executing")
                #expect((created.object["tranches"] as? [Any])?.count == 2)
                let again = try await client.call(
                    .post, "/v1/projects", as: "publisher", fixture: fixture,
                    json: Self.taskBook(bid: setup.awardedBid))
                #expect(again.status == .conflict)
                #expect(again.problemFields == ["bidID"])
                let foreign = try await client.call(
                    .post, "/v1/projects", as: "otherPublisher", fixture: fixture,
                    json: Self.taskBook(bid: setup.awardedBid))
                #expect(foreign.status == .forbidden)
            }
        }
    }

    @Test(
        "A milestone's tranche is paid only after the lead submits it and the publisher approves it, and only once"
    )
    func milestoneThenPayment() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let setup = try await AccessMatrixTests.setUpProjects(
                fixture, publisher: try await Self.publisher(fixture))
            let project = setup.project
            let tranche = try await db.query(
                "SELECT t.id FROM tranches t JOIN milestones m ON m.id = t.milestone_id WHERE t.project_id = \(project) AND m.position = 4"
            ).first!.decode(Int.self)
            try await fixture.application().test(.router) { client in
                let pay = "/v1/projects/\(project)/tranches/\(tranche)/payment"
                let early = try await client.call(
                    .post, "/v1/projects/\(project)/tranches/\(tranche)/payment", as: "publisher",
                    fixture: fixture)
                #expect(early.status == .conflict)
                let rejected = try await client.call(
                    .post, "/v1/projects/\(project)/milestones/4/decision", as: "publisher", fixture: fixture,
                    json: ["approve": false, "note": "缺少测试报告"])
                #expect(rejected.status == .ok)
                let resubmitted = try await client.call(
                    .post, "/v1/projects/\(project)/milestones/4/submission", as: "memberA", fixture: fixture)
                #expect(resubmitted.status == .ok)
                let milestones = resubmitted.object["milestones"] as? [[String: Any]] ?? []
                #expect(
                    milestones.first { $0["position"] as? Int == 4 }?["status"] as? String == "submitted")
                let twice = try await client.call(
                    .post, "/v1/projects/\(project)/milestones/4/submission", as: "adminA", fixture: fixture)
                #expect(twice.status == .conflict)
                #expect(twice.problemFields == ["position"])
                let approved = try await client.call(
                    .post, "/v1/projects/\(project)/milestones/4/decision", as: "publisher", fixture: fixture,
                    json: ["approve": true])
                #expect(approved.status == .ok)
                let paid = try await client.call(.post, pay, as: "publisher", fixture: fixture)
                #expect(paid.status == .ok)
                #expect(paid.object["paidFen"] as? Int == 60_000_000)
                #expect(
                    try await client.call(.post, pay, as: "publisher", fixture: fixture).status == .conflict)
                let missing = try await client.call(
                    .post, "/v1/projects/\(project)/tranches/999999/payment", as: "publisher",
                    fixture: fixture)
                #expect(missing.status == .notFound)
                let shown = try await client.call(
                    .get, "/v1/projects/\(project)", as: "lanzhou", fixture: fixture)
                #expect(shown.status == .ok)
                #expect(shown.object["paidFen"] as? Int == 60_000_000)
                #expect(
                    try await client.call(.get, "/v1/projects/\(project)", as: "jinchang", fixture: fixture)
                        .status == .notFound)
            }
        }
    }

    @Test(
        "The city's recommender files one progress report a year; the lead's extension, once approved, moves the deadline"
    )
    func reportsAndChanges() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let setup = try await AccessMatrixTests.setUpProjects(
                fixture, publisher: try await Self.publisher(fixture))
            let project = setup.project
            try await fixture.application().test(.router) { client in
                let reports = "/v1/projects/\(project)/progress-reports"
                let year = Calendar.current.dateComponents(in: Shanghai.timeZone, from: Date()).year!
                let report: [String: Any] = ["year": year, "content": "本年度完成中试线建设，关键指标达到预期。"]
                let filed = try await client.call(
                    .post, reports, as: "lanzhou", fixture: fixture, json: report)
                #expect(filed.status == .created)
                #expect(filed.object["year"] as? Int == year)
                let again = try await client.call(
                    .post, reports, as: "lanzhou", fixture: fixture, json: report)
                #expect(again.status == .conflict)
                let short = try await client.call(
                    .post, reports, as: "lanzhou", fixture: fixture, json: ["year": year, "content": "短"])
                #expect(short.status == .unprocessableContent)
                #expect(short.problemFields == ["content"])
                let changes = "/v1/projects/\(project)/changes"
                let noDate = try await client.call(
                    .post, changes, as: "adminA", fixture: fixture,
                    json: ["kind": "extend_deadline", "reason": "设备到货延迟"])
                #expect(noDate.problemFields == ["newDeadline"])
                let asked = try await client.call(
                    .post, changes, as: "adminA", fixture: fixture,
                    json: ["kind": "extend_deadline", "reason": "设备到货延迟", "newDeadline": "2030-06-30"])
                #expect(asked.status == .created)
                let change = try #require(asked.object["id"] as? Int)
                let decided = try await client.call(
                    .post, "\(changes)/\(change)/decision", as: "publisher", fixture: fixture,
                    json: ["approve": true, "note": "同意延期"])
                #expect(decided.status == .ok)
                #expect(decided.object["completionDeadline"] as? String == "2030-06-30")
                #expect(decided.object["originalCompletionDeadline"] as? String != "2030-06-30")
                let repeated = try await client.call(
                    .post, "\(changes)/\(change)/decision", as: "publisher", fixture: fixture,
                    json: ["approve": false])
                #expect(repeated.status == .conflict)
            }
        }
    }

    @Test(
        "The lead adds PDF evidence to its acceptance; readers of the acceptance download it by its SHA-256; a non-PDF names the body; a concluded acceptance takes no more"
    )
    func evidence() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let setup = try await AccessMatrixTests.setUpProjects(fixture, publisher: try await Self.publisher(fixture))
            let path = "/v1/acceptances/\(setup.acceptance)/evidence"
            try await fixture.application().test(.router) { client in
                let pdf = Data("%PDF-1.7 第三方检测报告".utf8)
                let added = try await client.call(
                    .post, path + "?filename=%E6%A3%80%E6%B5%8B.pdf", as: "memberA", fixture: fixture, raw: pdf,
                    headers: [.contentType: "application/pdf"])
                #expect(added.status == .created)
                #expect(added.object["sha256"] as? String == SHA256Hex.digest(of: Array(pdf)))
                let notPDF = try await client.call(
                    .post, path + "?filename=x.pdf", as: "adminA", fixture: fixture, raw: Data("hello".utf8),
                    headers: [.contentType: "application/pdf"])
                #expect(notPDF.status == .unprocessableContent)
                #expect(notPDF.problemFields == ["body"])
                let partner = try await client.call(
                    .post, path + "?filename=x.pdf", as: "adminB", fixture: fixture, raw: pdf, headers: [.contentType: "application/pdf"])
                #expect(partner.status == .notFound)
                let list = try await client.call(.get, path, as: "expert", fixture: fixture)
                #expect((list.object["items"] as? [[String: Any]])?.count == 2)
                let id = try #require(added.object["id"] as? Int)
                let download = try await client.call(.get, path + "/\(id)", as: "publisher", fixture: fixture)
                #expect(download.status == .ok)
                #expect(download.headers[.eTag] == "\"\(SHA256Hex.digest(of: Array(pdf)))\"")
                _ = try await client.call(
                    .post, "/v1/acceptances/\(setup.acceptance)/verdict", as: "expert", fixture: fixture,
                    json: ["indicatorsMet": [true, true], "dataTrue": true, "targetsKept": true, "conclusion": "pass"])
                let concluded = try await client.call(
                    .post, "/v1/acceptances/\(setup.acceptance)/finances", as: "publisher", fixture: fixture, json: ["passed": true])
                #expect(concluded.object["conclusion"] as? String == "pass")
                let late = try await client.call(
                    .post, path + "?filename=late.pdf", as: "adminA", fixture: fixture, raw: pdf, headers: [.contentType: "application/pdf"]
                )
                #expect(late.status == .conflict)
            }
        }
    }
}

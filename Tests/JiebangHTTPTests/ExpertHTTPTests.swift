import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("The expert pool over HTTP")
struct ExpertHTTPTests {
    static let header = "姓名,登录名,工作单位,所在地区,统一社会信用代码,职称,专业领域,产业链,关键词,评审上限,回避单位"

    static func expertBody(login: String = "wang.lei") -> [String: Any] {
        [
            "login": login, "displayName": "王磊", "organisation": "兰州大学", "regionCode": "620100", "title": "教授",
            "domains": ["新材料", "稀土功能材料"], "industryChains": ["有色冶金"], "keywords": ["稀土永磁"], "loadCap": 8,
        ]
    }

    @Test("A publisher creates, reads, searches, edits with If-Match, retires and reinstates an expert of their pool")
    func lifecycle() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                var body = Self.expertBody()
                body["unitID"] = fixture.unitA
                let created = try await client.call(.post, "/v1/experts", as: "publisher", fixture: fixture, json: body)
                #expect(created.status == .created, "\(created.object)")
                let id = try #require(created.object["id"] as? Int)
                #expect(created.object["unitName"] as? String == "兰州稀土新材料有限公司")
                #expect(created.headers[.location] == "/v1/experts/\(id)")
                let role = try await db.query("SELECT role::text, password_hash IS NULL FROM users WHERE id = \(id)").first!
                    .decode((String, Bool).self)
                #expect(role == ("expert", true))

                let found = try await client.call(.get, "/v1/experts?q=%E7%A8%80%E5%9C%9F", as: "publisher", fixture: fixture)
                #expect((found.object["items"] as? [[String: Any]])?.map { $0["id"] as? Int } == [id])
                let none = try await client.call(.get, "/v1/experts?q=nothing", as: "publisher", fixture: fixture)
                #expect((none.object["items"] as? [Any])?.isEmpty == true)
                let foreign = try await client.call(.get, "/v1/experts", as: "otherPublisher", fixture: fixture)
                #expect((foreign.object["items"] as? [Any])?.isEmpty == true)

                let noMatch = try await client.call(.patch, "/v1/experts/\(id)", as: "publisher", fixture: fixture, json: ["loadCap": 5])
                #expect(noMatch.status == .preconditionRequired)
                let edited = try await client.call(
                    .patch, "/v1/experts/\(id)", as: "publisher", fixture: fixture,
                    json: ["loadCap": 5, "unitID": NSNull(), "displayName": "王磊教授"], headers: [.ifMatch: created.etag!])
                #expect(edited.status == .ok, "\(edited.object)")
                #expect(edited.object["loadCap"] as? Int == 5 && edited.object["unitID"] == nil)
                #expect(edited.object["displayName"] as? String == "王磊教授" && edited.etag == "\"2\"")
                let stale = try await client.call(
                    .patch, "/v1/experts/\(id)", as: "publisher", fixture: fixture, json: ["loadCap": 6],
                    headers: [.ifMatch: created.etag!])
                #expect(stale.status == .preconditionFailed)
                let invalid = try await client.call(
                    .patch, "/v1/experts/\(id)", as: "publisher", fixture: fixture,
                    json: ["loadCap": 0, "regionCode": "620101", "keywords": [""]], headers: [.ifMatch: edited.etag!])
                #expect(invalid.status == .unprocessableContent)
                #expect(invalid.problemFields == ["loadCap", "regionCode", "keywords[0]"])

                let retired = try await client.call(.post, "/v1/experts/\(id)/retire", as: "publisher", fixture: fixture)
                #expect(retired.status == .ok && retired.object["retiredAt"] != nil && retired.object["available"] as? Bool == false)
                let listed = try await client.call(.get, "/v1/experts", as: "publisher", fixture: fixture)
                #expect((listed.object["items"] as? [Any])?.isEmpty == true)
                let withRetired = try await client.call(.get, "/v1/experts?includeRetired=true", as: "publisher", fixture: fixture)
                #expect((withRetired.object["items"] as? [Any])?.count == 1)
                let revived = try await client.call(
                    .patch, "/v1/experts/\(id)", as: "publisher", fixture: fixture, json: ["available": true],
                    headers: [.ifMatch: retired.etag!])
                #expect(revived.status == .conflict)
                #expect(revived.problemFields == ["available"])
                let reinstated = try await client.call(.post, "/v1/experts/\(id)/reinstate", as: "publisher", fixture: fixture)
                #expect(reinstated.status == .ok && reinstated.object["retiredAt"] == nil)
                #expect(reinstated.object["available"] as? Bool == false)
                let available = try await client.call(
                    .patch, "/v1/experts/\(id)", as: "publisher", fixture: fixture, json: ["available": true],
                    headers: [.ifMatch: reinstated.etag!])
                #expect(available.status == .ok && available.object["available"] as? Bool == true)
                let actions = try await db.query(
                    "SELECT action FROM audit_log WHERE entity = 'expert' ORDER BY id"
                ).decode(String.self)
                #expect(actions == ["expert.create", "expert.update", "expert.retire", "expert.reinstate", "expert.update"])
            }
        }
    }

    @Test("Only the pool's publisher and the expert see an expert; the expert changes only availability and adds but never removes ties")
    func accessRules() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let expertID = try await db.query("SELECT id FROM users WHERE login = 'expert'").first!.decode(Int.self)
            try await fixture.application().test(.router) { client in
                let missing = try await client.call(.get, "/v1/me/expert-profile", as: "expert", fixture: fixture)
                #expect(missing.status == .notFound)
                try await db.execute(
                    """
                    INSERT INTO experts (user_id, bureau_id, organisation, region_code)
                    VALUES (\(expertID), \(fixture.provinceBureau), '兰州大学', '620100')
                    """)
                let own = try await client.call(.get, "/v1/me/expert-profile", as: "expert", fixture: fixture)
                #expect(own.status == .ok && own.object["id"] as? Int == expertID)
                for person in ["otherPublisher", "admin", "lanzhou", "adminA", "memberB"] {
                    let shown = try await client.call(.get, "/v1/experts/\(expertID)", as: person, fixture: fixture)
                    // Another bureau's publisher may read experts, only not this pool's: it is not there for them.
                    #expect(shown.status == (person == "otherPublisher" ? .notFound : .forbidden), "\(person)")
                }
                let unknown = try await client.call(.get, "/v1/experts/999999", as: "publisher", fixture: fixture)
                #expect(unknown.status == .notFound)
                let profile = try await client.call(
                    .patch, "/v1/experts/\(expertID)", as: "expert", fixture: fixture, json: ["organisation": "别的单位"],
                    headers: [.ifMatch: own.etag!])
                #expect(profile.status == .forbidden)
                let away = try await client.call(
                    .patch, "/v1/experts/\(expertID)", as: "expert", fixture: fixture, json: ["available": false],
                    headers: [.ifMatch: own.etag!])
                #expect(away.status == .ok && away.object["available"] as? Bool == false)
                let tie = try await client.call(
                    .put, "/v1/experts/\(expertID)/ties/\(fixture.unitB)", as: "expert", fixture: fixture,
                    json: ["reason": "曾在该院工作"])
                #expect(tie.status == .ok && tie.object["unitName"] as? String == "金川镍钴研究院")
                let noUnit = try await client.call(
                    .put, "/v1/experts/\(expertID)/ties/999999", as: "expert", fixture: fixture, json: ["reason": "曾在该院工作"])
                #expect(noUnit.status == .notFound)
                let shortReason = try await client.call(
                    .put, "/v1/experts/\(expertID)/ties/\(fixture.unitB)", as: "publisher", fixture: fixture, json: ["reason": "x"])
                #expect(shortReason.status == .unprocessableContent && shortReason.problemFields == ["reason"])
                let lifted = try await client.call(.delete, "/v1/experts/\(expertID)/ties/\(fixture.unitB)", as: "expert", fixture: fixture)
                #expect(lifted.status == .forbidden)
                let ties = try await client.call(.get, "/v1/experts/\(expertID)/ties", as: "publisher", fixture: fixture)
                #expect((ties.object["items"] as? [[String: Any]])?.map { $0["unitID"] as? Int } == [fixture.unitB])
                let removed = try await client.call(
                    .delete, "/v1/experts/\(expertID)/ties/\(fixture.unitB)", as: "publisher", fixture: fixture)
                #expect(removed.status == .noContent)
                let again = try await client.call(
                    .delete, "/v1/experts/\(expertID)/ties/\(fixture.unitB)", as: "publisher", fixture: fixture)
                #expect(again.status == .notFound)
            }
        }
    }

    @Test(
        "A CSV import answers its counts; bad rows are a 422 naming line and column; bad bytes, huge bodies and bad JSON are 4xx problems")
    func importsOverHTTP() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let unitB = try await db.query("SELECT credit_code FROM units WHERE id = \(fixture.unitB)").first!.decode(String.self)
                let good = [
                    Self.header, "王磊,wang.lei,兰州大学,620100,,教授,新材料；稀土功能材料,有色冶金,稀土永磁,8,\(unitB)",
                    "李娜,li.na,金川集团,金昌市,,,,,,,",
                ].joined(separator: "\n")
                let imported = try await client.call(.post, "/v1/experts/import", as: "publisher", fixture: fixture, raw: Data(good.utf8))
                #expect(imported.status == .ok, "\(imported.object)")
                #expect(imported.object["created"] as? Int == 2 && imported.object["ties"] as? Int == 1)
                let bad = [Self.header, "王磊,wang.lei,兰州大学,620100,,,,,,0,", "赵敏,zhao.min,兰州大学,999999,,,,,,,"].joined(separator: "\n")
                let refused = try await client.call(.post, "/v1/experts/import", as: "publisher", fixture: fixture, raw: Data(bad.utf8))
                #expect(refused.status == .unprocessableContent)
                #expect(refused.problemFields == ["line 2, 评审上限", "line 3, 所在地区"])
                let foreign = try await client.call(
                    .post, "/v1/experts/import", as: "otherPublisher", fixture: fixture, raw: Data(good.utf8))
                #expect(foreign.status == .unprocessableContent)
                #expect(foreign.problemFields == ["line 2, 登录名", "line 3, 登录名"])
                let bytes = try await client.call(
                    .post, "/v1/experts/import", as: "publisher", fixture: fixture, raw: Data([0xFF, 0xFE, 0x41]))
                #expect(bytes.status == .badRequest)
                let huge = try await client.call(
                    .post, "/v1/experts/import", as: "publisher", fixture: fixture,
                    raw: Data(repeating: 0x41, count: (5 << 20) + 1))
                #expect(huge.status == .contentTooLarge)
                #expect((huge.object["detail"] as? String)?.contains("at most") == true)
                let hugeJSON = try await client.call(
                    .post, "/v1/experts", as: "publisher", fixture: fixture,
                    raw: Data(("{\"login\":\"" + String(repeating: "x", count: 2 << 20) + "\"}").utf8))
                #expect(hugeJSON.status == .contentTooLarge)
                #expect((hugeJSON.object["detail"] as? String)?.hasPrefix("The body may have at most") == true)
                let unit = try await client.call(.post, "/v1/experts/import", as: "adminA", fixture: fixture, raw: Data(good.utf8))
                #expect(unit.status == .forbidden)
                let json = try await client.call(.post, "/v1/experts", as: "publisher", fixture: fixture, raw: Data("{\"login\":".utf8))
                #expect(json.status == .badRequest)
                let wrongType = try await client.call(
                    .patch, "/v1/experts/1", as: "publisher", fixture: fixture, json: ["unitID": "one"], headers: [.ifMatch: "\"1\""])
                #expect(wrongType.status == .badRequest && wrongType.problemFields == ["unitID"])
                let taken = try await client.call(
                    .post, "/v1/experts", as: "publisher", fixture: fixture, json: Self.expertBody(login: "adminA"))
                #expect(taken.status == .conflict && taken.problemFields == ["login"])
                let badQuery = try await client.call(.get, "/v1/experts?available=maybe&limit=0", as: "publisher", fixture: fixture)
                #expect(badQuery.status == .badRequest && badQuery.problemFields == ["available", "limit"])
            }
        }
    }

    @Test("An expert created with a first password signs in; a weak one is refused with the other bad fields, nothing created")
    func firstPassword() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                var weak = Self.expertBody(login: "li.na")
                weak["password"] = "short"
                weak["loadCap"] = 0
                let refused = try await client.call(.post, "/v1/experts", as: "publisher", fixture: fixture, json: weak)
                #expect(refused.status == .unprocessableContent && refused.problemFields == ["loadCap", "password"])
                var body = Self.expertBody(login: "li.na")
                body["password"] = "a long enough password"
                let created = try await client.call(.post, "/v1/experts", as: "publisher", fixture: fixture, json: body)
                #expect(created.status == .created && created.object["password"] == nil)
                let session = try await client.call(
                    .post, "/v1/sessions", json: ["login": "li.na", "password": "a long enough password"])
                #expect(session.status == .created || session.status == .ok, "\(session.object)")
                let token = try #require(session.object["token"] as? String)
                let own = try await client.call(.get, "/v1/me/expert-profile", headers: [.authorization: "Bearer \(token)"])
                #expect(own.status == .ok && own.object["login"] as? String == "li.na")
            }
        }
    }

    @Test("Two creations of the same login at once: one wins, the other is a 409; two imports at once leave one expert")
    func concurrentCreation() async throws {
        try await TestDatabase.withFreshDatabase(maximumConnections: 12) { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let body = try JSONSerialization.data(withJSONObject: Self.expertBody(login: "twin"))
                let created = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<4 {
                        group.addTask { try await client.call(.post, "/v1/experts", as: "publisher", fixture: fixture, raw: body).status }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(created.filter { $0 == .created }.count == 1)
                #expect(created.filter { $0 == .conflict }.count == 3)
                let csv = Data([Self.header, "李娜,li.na,兰州大学,620100,,,,,,,"].joined(separator: "\n").utf8)
                let imported = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            try await client.call(.post, "/v1/experts/import", as: "publisher", fixture: fixture, raw: csv).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(imported.allSatisfy { $0 == .ok || $0 == .conflict }, "\(imported)")
                #expect(imported.contains(.ok))
                let count = try await db.query("SELECT count(*) FROM users WHERE login IN ('twin', 'li.na')").first!.decode(Int.self)
                #expect(count == 2)
            }
        }
    }

    @Test("jiebang experts import prints progress and a summary, and refuses a bad file with every error and a non-zero exit")
    func commandLine() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let bureau = try await db.withConnection {
                try await AccountStore.createBureau(name: "甘肃省工业和信息化厅", level: "province", regionCode: "620000", on: $0)
            }
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let environment = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin"]
            let folder = FileManager.default.temporaryDirectory.appending(path: "experts-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let good = folder.appending(path: "good.csv")
            let rows = (1...5).map { "专家\($0),expert\($0),兰州大学,620100,,,新材料,,,," }
            try ([Self.header] + rows).joined(separator: "\n").write(to: good, atomically: true, encoding: .utf8)
            let ran = try CommandLineTests.run(
                ["experts", "import", good.path, "--bureau", "\(bureau)", "--progress-every", "2"], environment: environment)
            #expect(ran.status == 0, "\(ran.output)")
            #expect(ran.output.contains("imported 2 of 5 rows") && ran.output.contains("imported 5 of 5 rows"))
            #expect(ran.output.contains("Imported 5 experts from \(good.path): 5 created, 0 updated, 0 ties."))
            let bad = folder.appending(path: "bad.csv")
            try [Self.header, "专家,x,兰州大学,620100,,,,,,,", "专家,expert9,兰,620100,,,,,,,"].joined(separator: "\n")
                .write(to: bad, atomically: true, encoding: .utf8)
            let refused = try CommandLineTests.run(["experts", "import", bad.path, "--bureau", "\(bureau)"], environment: environment)
            #expect(refused.status != 0)
            #expect(refused.output.contains("2 error(s), nothing imported"))
            #expect(refused.output.contains("line 2, 登录名") && refused.output.contains("line 3, 工作单位"))
            let noBureau = try CommandLineTests.run(["experts", "import", good.path, "--bureau", "999"], environment: environment)
            #expect(noBureau.status != 0 && noBureau.output.contains("no bureau has id 999"))
            #expect(try await db.query("SELECT count(*) FROM experts").first!.decode(Int.self) == 5)
        }
    }
}

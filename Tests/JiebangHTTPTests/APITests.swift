import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Postgres
import Testing

@Suite("The API: accounts, units, programmes, demands and challenges")
struct APITests {
    @Test("Signing in issues a token that works until signing out; a wrong password is 401 and says nothing more")
    func signInAndOut() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let wrong = try await client.call(.post, "/v1/sessions", json: ["login": "publisher", "password": "not the one"])
                #expect(wrong.status == .unauthorized)
                let unknown = try await client.call(.post, "/v1/sessions", json: ["login": "nobody", "password": "not the one"])
                #expect(unknown.object["detail"] as? String == wrong.object["detail"] as? String)
                let session = try await client.call(
                    .post, "/v1/sessions", json: ["login": " Publisher ", "password": "correct horse battery"])
                #expect(session.status == .created)
                let token = try #require(session.object["token"] as? String)
                #expect((session.object["user"] as? [String: Any])?["role"] as? String == "provincial_publisher")
                let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
                let me = try await client.call(.get, "/v1/me", headers: bearer)
                #expect(me.status == .ok)
                #expect(me.object["login"] as? String == "publisher")
                // Spaces and tabs around the token are not part of it; anything else is.
                let spaced = try await client.call(.get, "/v1/me", headers: [.authorization: "Bearer  \t\(token) \t"])
                #expect(spaced.status == .ok)
                let padded = try await client.call(.get, "/v1/me", headers: [.authorization: "Bearer \(token)x"])
                #expect(padded.status == .unauthorized)
                #expect(try await client.call(.delete, "/v1/sessions/current", headers: bearer).status == .noContent)
                let after = try await client.call(.get, "/v1/me", headers: bearer)
                #expect(after.status == .unauthorized)
                #expect(after.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                let anonymous = try await client.call(.get, "/v1/me")
                #expect(anonymous.status == .unauthorized)
                let garbage = try await client.call(.get, "/v1/me", headers: [.authorization: "Basic abc"])
                #expect(garbage.status == .unauthorized)
            }
        }
    }

    @Test("A unit registers with its admin; a wrong credit code, a bad region and a bad e-mail are each named")
    func unitRegistration() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                var unit: [String: Any] = [
                    "kind": "enterprise", "name": "天水星火机床有限责任公司", "creditCode": "91620500MA71234567",
                    "regionCode": "620000", "natures": ["state_owned"], "contactName": "王强", "contactPhone": "0938-1234567",
                    "contactEmail": "not-an-email",
                ]
                let bad = try await client.call(.post, "/v1/units", json: ["unit": unit])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.problemFields == ["creditCode", "regionCode", "contactEmail"])
                let message = (bad.object["errors"] as? [[String: Any]])?.first { $0["field"] as? String == "creditCode" }?["message"]
                #expect((message as? String)?.contains("check character") == true)
                let code = try CreditCode.completing("91620500MA7123456").value
                unit["creditCode"] = code
                unit["regionCode"] = "620500"
                unit["contactEmail"] = "wang@example.cn"
                let admin: [String: Any] = ["login": "wang.qiang", "displayName": "王强", "password": "a long enough password"]
                let created = try await client.call(.post, "/v1/units", json: ["unit": unit, "admin": admin])
                #expect(created.status == .created)
                #expect(created.etag == "\"1\"")
                #expect(created.object["verification"] as? String == "pending")
                // Codes are public: a second claim of the code is registered too, pending, for the bureau to settle.
                let again = try await client.call(.post, "/v1/units", json: ["unit": unit])
                #expect(again.status == .created)
                #expect(again.object["verification"] as? String == "pending")
                let session = try await client.call(
                    .post, "/v1/sessions", json: ["login": "wang.qiang", "password": "a long enough password"])
                #expect((session.object["user"] as? [String: Any])?["role"] as? String == "unit_admin")
                let typed = try await client.call(.post, "/v1/units", json: ["unit": ["kind": 3]])
                #expect(typed.status == .badRequest)
                #expect(typed.problemFields == ["unit.kind"])
                let missing = try await client.call(.post, "/v1/units", json: ["unit": ["kind": "enterprise"]])
                #expect(missing.status == .badRequest)
                #expect(missing.problemFields == ["unit.name"])
                let notJSON = try await client.execute(
                    uri: "/v1/units", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{"))
                #expect(notJSON.status == .badRequest)
                let audit = try await db.query("SELECT count(*) FROM audit_log WHERE action = 'unit.register'").first!.decode(Int.self)
                #expect(audit == 4)
            }
        }
    }

    @Test("The same Idempotency-Key creates once, even sent 8 times at once; reused for another body it is 409")
    func idempotentCreation() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "5b7c8f7e-programme-1"]
                let body = try JSONSerialization.data(withJSONObject: Bodies.programme())
                let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            try await client.call(.post, "/v1/programmes", as: "publisher", fixture: fixture, raw: body, headers: key)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.allSatisfy { $0.status == .created })
                #expect(Set(replies.compactMap { $0.object["id"] as? Int }).count == 1)
                #expect(replies.filter { $0.headers[HTTPField.Name("Idempotent-Replayed")!] == "true" }.count == 7)
                let count = try await db.query("SELECT count(*) FROM programmes").first!.decode(Int.self)
                #expect(count == 1)
                let other = try await client.call(
                    .post, "/v1/programmes", as: "publisher", fixture: fixture, json: Bodies.programme(name: "另一个批次"),
                    headers: key)
                #expect(other.status == .conflict)
                #expect(other.problemFields == ["Idempotency-Key"])
                let byOther = try await client.call(
                    .post, "/v1/programmes", as: "otherPublisher", fixture: fixture, raw: body, headers: key)
                #expect(byOther.status == .created)
            }
        }
    }

    @Test("Edits need If-Match: none is 428, an old revision 412, and of two concurrent edits exactly one wins")
    func optimisticEdits() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let created = try await client.call(.post, "/v1/programmes", as: "publisher", fixture: fixture, json: Bodies.programme())
                let id = try #require(created.object["id"] as? Int)
                var edit = Bodies.programme()
                edit["fundingRatioCapBasisPoints"] = 3_000
                edit["fundingAbsoluteCapFen"] = 300_000_000
                edit["fundingMode"] = "post_subsidy"
                let editBody = try JSONSerialization.data(withJSONObject: edit)
                let noMatch = try await client.call(.put, "/v1/programmes/\(id)", as: "publisher", fixture: fixture, json: edit)
                #expect(noMatch.status == .preconditionRequired)
                let etag = try #require(created.etag)
                let results = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<6 {
                        group.addTask {
                            try await client.call(
                                .put, "/v1/programmes/\(id)", as: "publisher", fixture: fixture, raw: editBody,
                                headers: [.ifMatch: etag]
                            ).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(results.filter { $0 == .ok }.count == 1)
                #expect(results.filter { $0 == .preconditionFailed }.count == 5)
                let shown = try await client.call(.get, "/v1/programmes/\(id)")
                #expect(shown.object["fundingRatioCapBasisPoints"] as? Int == 3_000)
                #expect(shown.etag == "\"2\"")
                let foreign = try await client.call(
                    .put, "/v1/programmes/\(id)", as: "otherPublisher", fixture: fixture, json: edit, headers: [.ifMatch: "\"2\""])
                #expect(foreign.status == .notFound)
            }
        }
    }

    @Test("A challenge is drafted, edited, published onto the board and then changes only by a versioned amendment")
    func challengeLifecycle() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let programme = try await client.call(.post, "/v1/programmes", as: "publisher", fixture: fixture, json: Bodies.programme())
                let programmeID = try #require(programme.object["id"] as? Int)
                let demand = try await client.call(
                    .post, "/v1/demands", as: "memberA", fixture: fixture, json: Bodies.demand(unitID: fixture.unitA))
                #expect(demand.status == .created)
                var body = Bodies.challenge()
                body["demandIDs"] = [try #require(demand.object["id"] as? Int)]
                var badBody = body
                badBody["completionDeadline"] = "2020-01-01"
                badBody["fundingCeilingFen"] = 600_000_000
                badBody["category"] = "other"
                let bad = try await client.call(
                    .post, "/v1/programmes/\(programmeID)/challenges", as: "publisher", fixture: fixture, json: badBody)
                #expect(bad.status == .unprocessableContent)
                #expect(bad.problemFields == ["completionDeadline", "fundingCeilingFen", "category"])
                let draft = try await client.call(
                    .post, "/v1/programmes/\(programmeID)/challenges", as: "publisher", fixture: fixture, json: body)
                #expect(draft.status == .created)
                let id = try #require(draft.object["id"] as? Int)
                #expect(draft.object["status"] as? String == "draft")
                #expect(try await client.call(.get, "/v1/board/challenges/\(id)").status == .notFound)
                body["title"] = "高丰度稀土永磁材料关键制备技术"
                let edited = try await client.call(
                    .put, "/v1/challenges/\(id)", as: "publisher", fixture: fixture, json: body,
                    headers: [.ifMatch: try #require(draft.etag)])
                #expect(edited.status == .ok)
                let published = try await client.call(
                    .post, "/v1/challenges/\(id)/publish", as: "publisher", fixture: fixture, headers: [.ifMatch: try #require(edited.etag)]
                )
                #expect(published.status == .ok)
                #expect(published.object["status"] as? String == "published")
                let twice = try await client.call(.post, "/v1/challenges/\(id)/publish", as: "publisher", fixture: fixture)
                #expect(twice.status == .conflict)
                let editPublished = try await client.call(
                    .put, "/v1/challenges/\(id)", as: "publisher", fixture: fixture, json: body,
                    headers: [.ifMatch: try #require(published.etag)])
                #expect(editPublished.status == .conflict)
                let unchanged = try await client.call(
                    .post, "/v1/challenges/\(id)/amendments", as: "publisher", fixture: fixture,
                    json: ["reason": "无实质变化的修订", "challenge": body])
                #expect(unchanged.status == .unprocessableContent)
                body["fundingCeilingFen"] = 400_000_000
                let amended = try await client.call(
                    .post, "/v1/challenges/\(id)/amendments", as: "publisher", fixture: fixture,
                    json: ["reason": "根据专家意见调整支持额度", "challenge": body])
                #expect(amended.status == .created)
                #expect(amended.object["version"] as? Int == 2)
                #expect((amended.object["changes"] as? [String: String]) == ["fundingCeilingFen": "400000000"])
                let page = try await client.call(.get, "/v1/board/challenges/\(id)")
                #expect(page.object["version"] as? Int == 2)
                #expect(page.object["fundingCeilingFen"] as? Int == 400_000_000)
                let amendments = page.object["amendments"] as? [[String: Any]]
                #expect(amendments?.first?["reason"] as? String == "根据专家意见调整支持额度")
                #expect(page.object["demandIDs"] as? [Int] == [demand.object["id"] as? Int ?? 0])
                var frozen = Bodies.programme()
                frozen["minPartners"] = 2
                let policy = try await client.call(
                    .put, "/v1/programmes/\(programmeID)", as: "publisher", fixture: fixture, json: frozen,
                    headers: [.ifMatch: try #require(programme.etag)])
                #expect(policy.status == .conflict)
                #expect(policy.problemFields == ["policy"])
                let actions = try await db.query(
                    "SELECT action FROM audit_log WHERE entity = 'challenge' AND entity_id = \(String(id)) ORDER BY id"
                ).decode(String.self)
                #expect(actions == ["challenge.create", "challenge.update", "challenge.publish", "challenge.amend"])
            }
        }
    }

    @Test("The database refuses what Swift refuses: a frozen policy, a publication past the deadline, an unamended change")
    func databaseBacksTheRules() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let programme = try await BoardFixtures.programme(db)
            let late = try await db.withConnection {
                try await BoardFixtures.challenge(
                    $0, programme: programme, title: "光伏组件回收利用技术", content: "光伏组件回收", status: "draft", deadlineDays: -1)
            }
            let open = try await db.withConnection {
                try await BoardFixtures.challenge($0, programme: programme, title: "氢能储运装备关键技术", content: "高压储氢", deadlineDays: 30)
            }
            let publish = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE challenges SET status = 'published', published_at = now() WHERE id = \(late)")
            }
            #expect(publish?.constraint == "challenges_publish_before_deadline")
            let policy = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE programmes SET min_partners = 3 WHERE id = \(programme)")
            }
            #expect(policy?.constraint == "programmes_policy_frozen")
            let rename = try await db.execute("UPDATE programmes SET name = '更名后的批次' WHERE id = \(programme)")
            #expect(rename == 1)
            let change = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE challenges SET funding_ceiling_fen = 1 WHERE id = \(open)")
            }
            #expect(change?.constraint == "challenges_amendment_required")
            let revisions = try await db.query("SELECT revision FROM programmes WHERE id = \(programme)").first!.decode(Int.self)
            #expect(revisions == 2)
        }
    }

    @Test("Demands stay within scope: a unit sees its own, a city its region's, another unit or city gets 404, an expert 403")
    func demandScopes() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let own = try await client.call(
                    .post, "/v1/demands", as: "memberA", fixture: fixture, json: Bodies.demand(unitID: fixture.unitA))
                #expect(own.status == .created)
                let id = try #require(own.object["id"] as? Int)
                let forOther = try await client.call(
                    .post, "/v1/demands", as: "memberA", fixture: fixture, json: Bodies.demand(unitID: fixture.unitB))
                #expect(forOther.status == .forbidden)
                let onBehalf = try await client.call(
                    .post, "/v1/demands", as: "jinchang", fixture: fixture, json: Bodies.demand(unitID: fixture.unitB))
                #expect(onBehalf.status == .created)
                #expect(onBehalf.object["filedByBureauID"] as? Int != nil)
                var invalid = Bodies.demand(unitID: fixture.unitA)
                invalid["need"] = "短"
                invalid["contactPhone"] = "phone"
                let bad = try await client.call(.post, "/v1/demands", as: "memberA", fixture: fixture, json: invalid)
                #expect(bad.problemFields == ["need", "contactPhone"])
                for (person, status) in [
                    ("memberA", .ok), ("adminA", .ok), ("lanzhou", .ok), ("publisher", .ok), ("admin", .ok),
                    ("memberB", .notFound), ("jinchang", .notFound), ("otherPublisher", .notFound), ("expert", .forbidden),
                ] as [(String, HTTPResponse.Status)] {
                    let reply = try await client.call(.get, "/v1/demands/\(id)", as: person, fixture: fixture)
                    #expect(reply.status == status, "\(person)")
                }
                let lanzhouList = try await client.call(.get, "/v1/demands", as: "lanzhou", fixture: fixture)
                #expect((lanzhouList.object["items"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [id])
                let publisherList = try await client.call(.get, "/v1/demands", as: "publisher", fixture: fixture)
                #expect((publisherList.object["items"] as? [Any])?.count == 2)
                let otherList = try await client.call(.get, "/v1/demands", as: "otherPublisher", fixture: fixture)
                #expect((otherList.object["items"] as? [Any])?.count == 0)
                let badQuery = try await client.call(.get, "/v1/demands?limit=0&programmeID=x", as: "admin", fixture: fixture)
                #expect(badQuery.problemFields == ["limit", "programmeID"])
            }
        }
    }
}

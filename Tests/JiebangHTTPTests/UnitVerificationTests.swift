import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Postgres
import Testing

@Suite("Who a unit is: the squat and its refusal")
struct UnitVerificationTests {
    static let pdf = Data("%PDF-1.7\n营业执照\n".utf8)

    static func registration(code: String, name: String, login: String) -> [String: Any] {
        [
            "unit": [
                "kind": "enterprise", "name": name, "creditCode": code, "regionCode": "620100", "natures": ["private"],
                "contactName": "王强", "contactPhone": "0931-8000001", "contactEmail": "wang@example.cn",
            ],
            "admin": ["login": login, "displayName": "\(name)管理员", "password": "a long enough password"],
        ]
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    @Test(
        "A squatter registering a real company's public code gets nothing: no demands, no bids, no invitations, no code change; the real company registers anyway and its bureau settles it"
    )
    func squatIsRefused() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 0, minPartners: 0)
            let fixture = world.fixture
            let code = try CreditCode.completing("91620100MA7REAL01").value
            try await fixture.application().test(.router) { client in
                func signIn(_ login: String) async throws -> String {
                    let reply = try await client.call(.post, "/v1/sessions", json: ["login": login, "password": "a long enough password"])
                    return try #require(reply.object["token"] as? String)
                }
                // The squatter comes first, with the real company's code (codes are public).
                let squat = try await client.call(.post, "/v1/units", json: Self.registration(code: code, name: "冒名公司", login: "squatter"))
                #expect(squat.status == .created)
                #expect(squat.object["verification"] as? String == "pending")
                let squatID = try #require(squat.object["id"] as? Int)
                let squatter = Self.bearer(try await signIn("squatter"))

                // The real company is not refused: a dispute is a workflow, not a 409.
                let real = try await client.call(
                    .post, "/v1/units", json: Self.registration(code: code, name: "兰州真实企业", login: "real.admin"))
                #expect(real.status == .created)
                let realID = try #require(real.object["id"] as? Int)
                let company = Self.bearer(try await signIn("real.admin"))

                // A pending unit cannot bid, nor be invited, nor receive a bureau's filing, nor move its code.
                let draft = try await client.call(
                    .post, "/v1/challenges/\(world.challenges[0])/bids", raw: try JSONEncoder().encode(BidWorld.content()),
                    headers: squatter)
                #expect(draft.status == .conflict)
                #expect(draft.problemFields == ["unit"])
                let lead = world.leads[0]
                let leadBid = try await world.consortium(lead: lead, partner: nil, challenge: world.challenges[0])
                let invite = try await client.call(
                    .post, "/v1/bids/\(leadBid)/members", json: ["unitID": squatID], headers: Self.bearer(lead.token))
                #expect(invite.status == .conflict)
                #expect(invite.problemFields == ["unitID"])
                let filed = try await client.call(
                    .post, "/v1/demands", as: "lanzhou", fixture: fixture, json: Bodies.demand(unitID: squatID))
                #expect(filed.status == .conflict)
                #expect(filed.problemFields == ["unitID"])
                var moved = (Self.registration(code: code, name: "冒名公司", login: "x")["unit"] as! [String: Any])
                moved["creditCode"] = try CreditCode.completing("91620100MA7OTHR01".replacingOccurrences(of: "O", with: "Q")).value
                moved["regionCode"] = "620300"
                var headers = squatter
                headers[.ifMatch] = "\"1\""
                let move = try await client.call(.put, "/v1/units/\(squatID)", json: moved, headers: headers)
                #expect(move.status == .unprocessableContent)
                #expect(move.problemFields == ["creditCode", "regionCode"])
                let found = try await db.withConnection { try await UnitStore.unit(creditCode: try CreditCode(code), on: $0) }
                #expect(found == nil, "a pending claim is not found by code")

                // The bureau sees both claims, with each other's ids.
                var licenceHeaders = company
                licenceHeaders[.contentType] = "application/pdf"
                let upload = try await client.call(
                    .put, "/v1/units/\(realID)/licence?filename=营业执照.pdf".addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!,
                    raw: Self.pdf, headers: licenceHeaders)
                #expect(upload.status == .ok)
                let pending = try await client.call(.get, "/v1/units/pending", as: "lanzhou", fixture: fixture)
                let items = try #require(pending.object["items"] as? [[String: Any]])
                #expect(items.count == 2)
                let realItem = try #require(items.first { ($0["unit"] as? [String: Any])?["id"] as? Int == realID })
                #expect(realItem["sameCodeUnitIDs"] as? [Int] == [squatID])
                #expect((realItem["licence"] as? [String: Any])?["filename"] as? String == "营业执照.pdf")
                let elsewhere = try await client.call(.get, "/v1/units/pending", as: "jinchang", fixture: fixture)
                #expect((elsewhere.object["items"] as? [Any])?.count == 0)
                let download = try await client.call(.get, "/v1/units/\(realID)/licence", as: "lanzhou", fixture: fixture)
                #expect(download.status == .ok)
                #expect(download.headers[.contentDisposition]?.hasPrefix("attachment") == true)
                #expect(try await client.call(.get, "/v1/units/\(realID)/licence", headers: squatter).status == .notFound)

                // Without a licence there is nothing to verify against; another region's bureau may not decide.
                let unproven = try await client.call(
                    .post, "/v1/units/\(squatID)/verification", as: "lanzhou", fixture: fixture, json: ["decision": "verified"])
                #expect(unproven.status == .conflict)
                #expect(unproven.problemFields == ["licence"])
                let outside = try await client.call(
                    .post, "/v1/units/\(realID)/verification", as: "jinchang", fixture: fixture, json: ["decision": "verified"])
                #expect(outside.status == .notFound)
                let verified = try await client.call(
                    .post, "/v1/units/\(realID)/verification", as: "lanzhou", fixture: fixture, json: ["decision": "verified"])
                #expect(verified.status == .ok)
                #expect(verified.object["verification"] as? String == "verified")

                // The code now has its holder: the squatter cannot be verified under it, and is rejected.
                var squatLicence = squatter
                squatLicence[.contentType] = "application/pdf"
                _ = try await client.call(.put, "/v1/units/\(squatID)/licence?filename=fake.pdf", raw: Self.pdf, headers: squatLicence)
                let second = try await client.call(
                    .post, "/v1/units/\(squatID)/verification", as: "lanzhou", fixture: fixture, json: ["decision": "verified"])
                #expect(second.status == .conflict)
                #expect(second.problemFields == ["creditCode"])
                let noReason = try await client.call(
                    .post, "/v1/units/\(squatID)/verification", as: "lanzhou", fixture: fixture, json: ["decision": "rejected"])
                #expect(noReason.status == .unprocessableContent)
                #expect(noReason.problemFields == ["note"])
                let rejected = try await client.call(
                    .post, "/v1/units/\(squatID)/verification", as: "lanzhou", fixture: fixture,
                    json: ["decision": "rejected", "note": "营业执照与信用代码不符"])
                #expect(rejected.object["verification"] as? String == "rejected")

                // The real company bids, is found by its code, and receives what is filed for it.
                let realDraft = try await client.call(
                    .post, "/v1/challenges/\(world.challenges[0])/bids", raw: try JSONEncoder().encode(BidWorld.content()), headers: company
                )
                #expect(realDraft.status == .created)
                let holder = try await db.withConnection { try await UnitStore.unit(creditCode: try CreditCode(code), on: $0) }
                #expect(holder?.id == realID)
                let realFiled = try await client.call(
                    .post, "/v1/demands", as: "lanzhou", fixture: fixture, json: Bodies.demand(unitID: realID))
                #expect(realFiled.status == .created)
                let squatterSees = try await client.call(.get, "/v1/demands", headers: squatter)
                #expect((squatterSees.object["items"] as? [Any])?.count == 0)

                // The database holds the same rules against hand-written SQL.
                await #expect {
                    try await db.execute(
                        """
                        INSERT INTO bids (programme_id, challenge_id, lead_unit_id, region_code, created_by)
                        VALUES (\(world.programme), \(world.challenges[0]), \(squatID), '620100', \(lead.userID))
                        """)
                } throws: { ($0 as? PostgresError)?.constraint == "bids_unit_verified" }
                await #expect {
                    try await db.execute("UPDATE units SET verification = 'verified', decided_at = now() WHERE id = \(squatID)")
                } throws: { ($0 as? PostgresError)?.constraint == "units_verified_credit_code" }
                try await db.execute("UPDATE units SET region_code = '620300' WHERE id = \(realID)")
                let after = try await db.query("SELECT verification, decided_at IS NULL FROM units WHERE id = \(realID)").first!
                    .decode((String, Bool).self)
                #expect(after == ("pending", true), "a moved code or region needs a new verification")
            }
        }
    }

    @Test("Two bureau decisions verifying two claims of one code at once: exactly one holds the code")
    func concurrentVerificationsOfOneCode() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let code = try CreditCode.completing("91620100MA7RACE01").value
            try await fixture.application().test(.router) { client in
                var ids: [Int] = []
                for index in 0..<2 {
                    let reply = try await client.call(
                        .post, "/v1/units", json: Self.registration(code: code, name: "竞争企业\(index)", login: "race\(index)"))
                    ids.append(try #require(reply.object["id"] as? Int))
                    try await db.execute(
                        """
                        INSERT INTO unit_licences (unit_id, filename, size_bytes, sha256, data)
                        VALUES (\(ids[index]), 'l.pdf', \(Self.pdf.count), \(SHA256Hex.digest(of: Self.pdf)), \(Self.pdf))
                        """)
                }
                let statuses = try await withThrowingTaskGroup(of: UInt16.self) { group in
                    for (index, id) in ids.enumerated() {
                        group.addTask {
                            UInt16(
                                try await client.call(
                                    .post, "/v1/units/\(id)/verification", as: index == 0 ? "lanzhou" : "admin", fixture: fixture,
                                    json: ["decision": "verified"]
                                ).status.code)
                        }
                    }
                    return try await group.reduce(into: [UInt16]()) { $0.append($1) }
                }
                #expect(statuses.sorted() == [200, 409], "\(statuses)")
                let holders = try await db.query(
                    "SELECT count(*) FROM units WHERE credit_code = \(code) AND verification = 'verified'"
                ).first!.decode(Int.self)
                #expect(holders == 1)
            }
        }
    }
}

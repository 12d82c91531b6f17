import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Postgres
import Testing

@Suite("Bids: consortia, submission rules, recommendation, formal check, summary")
struct BidTests {
    @Test("The bid state machine allows only its transitions")
    func stateMachine() throws {
        #expect(try BidStatus.draft.applying(.submit) == .submitted)
        #expect(try BidStatus.submitted.applying(.submit) == .submitted)
        #expect(try BidStatus.returned.applying(.submit) == .submitted)
        #expect(try BidStatus.submitted.applying(.recommend) == .recommended)
        #expect(try BidStatus.submitted.applying(.return) == .returned)
        #expect(try BidStatus.recommended.applying(.failFormalCheck) == .formalFailed)
        #expect(throws: BidStatus.Problem.self) { try BidStatus.draft.applying(.recommend) }
        #expect(throws: BidStatus.Problem.self) { try BidStatus.withdrawn.applying(.submit) }
        #expect(throws: BidStatus.Problem.self) { try BidStatus.recommended.applying(.withdraw) }
        #expect(BidStatus.allCases.filter(\.isLive) == [.submitted, .returned, .recommended, .formalPassed, .formalFailed])
    }

    @Test("32 concurrent submissions sharing one partner, for different challenges: exactly one wins, the rest get 409 naming the unit")
    func concurrentSubmissions() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 32, partners: 1, challenges: 32)
            let partner = world.partners[0]
            var drafted: [Int] = []
            for (index, lead) in world.leads.enumerated() {
                drafted.append(try await world.consortium(lead: lead, partner: partner, challenge: world.challenges[index]))
            }
            let bids = drafted
            try await world.fixture.application().test(.router) { client in
                let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for (index, bid) in bids.enumerated() {
                        let token = world.leads[index].token
                        group.addTask {
                            try await client.call(.post, "/v1/bids/\(bid)/submit", headers: [.authorization: "Bearer \(token)"])
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.filter { $0.status == .ok }.count == 1)
                let refused = replies.filter { $0.status == .conflict }
                #expect(refused.count == 31)
                let message = (refused.first?.object["errors"] as? [[String: Any]])?.first?["message"] as? String
                #expect(message?.contains("unit \(partner.unitID)") == true)
                #expect(message?.contains("金昌参与单位32") == true)
                let live = try await db.query(
                    "SELECT bid_id FROM bid_live_units WHERE unit_id = \(partner.unitID)"
                ).decode(Int.self)
                #expect(live == [try #require(replies.first { $0.status == .ok }?.object["bidID"] as? Int)])
                let winner = try #require(replies.first { $0.status == .ok }?.object["bidID"] as? Int)
                let winnerIndex = try #require(bids.firstIndex(of: winner))
                let loserIndex = (winnerIndex + 1) % bids.count
                let withdrawn = try await client.call(
                    .post, "/v1/bids/\(winner)/withdraw", headers: [.authorization: "Bearer \(world.leads[winnerIndex].token)"])
                #expect(withdrawn.status == .ok)
                let freed = try await client.call(
                    .post, "/v1/bids/\(bids[loserIndex])/submit", headers: [.authorization: "Bearer \(world.leads[loserIndex].token)"])
                #expect(freed.status == .ok)
            }
        }
    }

    @Test("Two submissions sharing two partners, whose member rows lie in opposite orders, never deadlock: one wins, one is refused")
    func sharedPartnersNeverDeadlock() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 2, challenges: 2)
            var drafted: [Int] = []
            for (index, lead) in world.leads.enumerated() {
                // Responding rewrites each member row, so the second bid's partners lie in the opposite order.
                let partners = index == 0 ? world.partners : world.partners.reversed()
                drafted.append(
                    try await db.withTransaction { tx in
                        let bid = try await BidStore.create(
                            challengeID: world.challenges[index], BidWorld.content(), by: lead.actor, on: tx
                        ).id
                        for partner in partners {
                            _ = try await BidStore.invite(id: bid, unitID: partner.unitID, by: lead.actor, on: tx)
                        }
                        for partner in partners {
                            _ = try await BidStore.respond(
                                id: bid, unitID: partner.unitID, accept: true, part: BidWorld.part, by: partner.actor, on: tx)
                        }
                        return bid
                    })
            }
            // Widen the race: each claimed unit waits 0.3 s before its key is written.
            try await db.execute(
                """
                CREATE FUNCTION test_slow_claim() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$
                """)
            try await db.execute(
                "CREATE TRIGGER test_slow_claim BEFORE INSERT ON bid_live_units FOR EACH ROW EXECUTE FUNCTION test_slow_claim()")
            let bids = drafted
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for bid in bids {
                    group.addTask {
                        do {
                            try await db.withTransaction { tx in
                                try await tx.execute("UPDATE bids SET status = 'submitted', version = version + 1 WHERE id = \(bid)")
                            }
                            return "submitted"
                        } catch let error as PostgresError {
                            return error.sqlState?.code == "40P01" ? "deadlock" : (error.constraint ?? "\(error)")
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }.sorted()
            }
            #expect(outcomes == ["bid_members_one_live_bid", "submitted"])
        }
    }

    @Test("Funding exactly at the cap passes and one fen over fails, in Swift and in the database")
    func fundingCap() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 2, challenges: 2)
            let over = try await world.consortium(
                lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0],
                content: BidWorld.content(requestedFen: 100_000_001))
            let atCap = try await world.consortium(
                lead: world.leads[1], partner: world.partners[1], challenge: world.challenges[1])
            let refused = await #expect(throws: DomainError.self) {
                try await db.withTransaction { try await BidStore.submit(id: over, ifRevision: nil, by: world.leads[0].actor, on: $0) }
            }
            #expect(refused?.description.contains("requestedFundingFen") == true)
            let receipt = try await db.withTransaction {
                try await BidStore.submit(id: atCap, ifRevision: nil, by: world.leads[1].actor, on: $0)
            }
            #expect(receipt.version == 1)
            #expect(receipt.sha256.count == 64)
            let raw = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE bids SET requested_funding_fen = 100000001, version = version + 1 WHERE id = \(atCap)")
            }
            #expect(raw?.constraint == "bids_funding_cap")
            let again = try await db.withTransaction {
                try await BidStore.submit(id: atCap, ifRevision: nil, by: world.leads[1].actor, on: $0)
            }
            #expect(again.version == 2)
            let versions = try await db.query("SELECT version FROM bid_submissions WHERE bid_id = \(atCap) ORDER BY version").decode(
                Int.self)
            #expect(versions == [1, 2])
        }
    }

    @Test("A request above the challenge's funding ceiling is refused in Swift and in the database, though within the programme's cap")
    func fundingCeiling() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1, challenges: 1)
            let challenge = world.challenges[0]
            // Within the programme's cap (10% of 10,000,000.00 元, at most 5,000,000.00 元): 1,000,000.00 元
            // requested; the challenge's ceiling is amended down to 500,000.00 元.
            try await db.withTransaction { tx in
                try await tx.execute(
                    """
                    INSERT INTO challenge_amendments (challenge_id, version, reason, changes)
                    VALUES (\(challenge), 2, '调整支持额度', '{"fundingCeilingFen": 50000000}')
                    """)
                try await tx.execute("UPDATE challenges SET funding_ceiling_fen = 50000000, version = 2 WHERE id = \(challenge)")
            }
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: challenge)
            let refused = await #expect(throws: DomainError.self) {
                try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0) }
            }
            #expect(refused?.description.contains("requestedFundingFen") == true)
            #expect(refused?.description.contains("funding ceiling (500,000.00 元)") == true)

            let raw = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE bids SET status = 'submitted', version = 1 WHERE id = \(bid)")
            }
            #expect(raw?.constraint == "bids_funding_ceiling")
            #expect(ConstraintCatalog.domainError(for: try #require(raw))?.description.contains("requestedFundingFen") == true)

            try await db.execute("UPDATE bids SET requested_funding_fen = 50000000 WHERE id = \(bid)")
            let receipt = try await db.withTransaction {
                try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0)
            }
            #expect(receipt.version == 1)
            let over = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE bids SET requested_funding_fen = 50000001, version = version + 1 WHERE id = \(bid)")
            }
            #expect(over?.constraint == "bids_funding_ceiling")
        }
    }

    @Test("A receipt's SHA-256 is of the kept content as PostgreSQL prints it, and no row may carry another")
    func receiptDigest() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1, challenges: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            let receipt = try await db.withTransaction {
                try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0)
            }
            let recomputed = try await db.query(
                """
                SELECT encode(sha256(convert_to(content::text, 'UTF8')), 'hex'), bid_content_digest(content),
                       content->'content'->>'requestedFundingFen'
                FROM bid_submissions WHERE bid_id = \(bid) AND version = \(receipt.version)
                """
            ).first?.decode((String, String, String).self)
            #expect(recomputed?.0 == receipt.sha256)
            #expect(recomputed?.1 == receipt.sha256)
            #expect(recomputed?.2 == "100000000")
            let audit = try await db.query(
                "SELECT after->>'sha256', after->>'version' FROM audit_log WHERE action = 'bid.submit' AND entity_id = \(String(bid))"
            ).first?.decode((String, String).self)
            #expect(audit?.0 == receipt.sha256)
            #expect(audit?.1 == "1")
            let forged = await #expect(throws: PostgresError.self) {
                try await db.execute(
                    """
                    INSERT INTO bid_submissions (bid_id, version, content, sha256)
                    VALUES (\(bid), 99, '{"bidID": 1}', \(String(repeating: "0", count: 64)))
                    """)
            }
            #expect(forged?.constraint == "bid_submissions_digest_of_content")
        }
    }

    @Test("Hand-written SQL cannot claim or free a unit: only the bid's own changes write its live units")
    func liveUnitsAreMaintained() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 1, challenges: 2)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            let units = { try await db.query("SELECT unit_id FROM bid_live_units WHERE bid_id = \(bid) ORDER BY unit_id").decode(Int.self) }
            let expected = [world.leads[0].unitID, world.partners[0].unitID].sorted()
            let refusals: [PostgresQuery] = [
                "INSERT INTO bid_live_units (programme_id, unit_id, bid_id) VALUES (\(world.programme), \(world.leads[1].unitID), \(bid))",
                "DELETE FROM bid_live_units WHERE bid_id = \(bid)",
                "UPDATE bid_live_units SET bid_id = bid_id WHERE bid_id = \(bid)",
                "TRUNCATE bid_live_units",
            ]
            #expect(try await units() == [])
            let claim = await #expect(throws: PostgresError.self) { try await db.execute(refusals[0]) }
            #expect(claim?.constraint == "bid_live_units_maintained")
            _ = try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0) }
            #expect(try await units() == expected)
            for statement in refusals {
                let error = await #expect(throws: PostgresError.self) { try await db.execute(statement) }
                #expect(error?.constraint == "bid_live_units_maintained", "\(String(describing: error))")
            }
            #expect(try await units() == expected)
            // Resubmitting keeps the units; withdrawing frees them.
            _ = try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0) }
            #expect(try await units() == expected)
            _ = try await db.withTransaction { try await BidStore.withdraw(id: bid, by: world.leads[0].actor, on: $0) }
            #expect(try await units() == [])
        }
    }

    @Test("While a bid is returned for revision, a partner that accepts claims its unit and one that is removed frees it")
    func returnedBidMovesItsUnits() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 2, challenges: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            let units = { try await db.query("SELECT unit_id FROM bid_live_units WHERE bid_id = \(bid) ORDER BY unit_id").decode(Int.self) }
            _ = try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0) }
            try await db.execute("UPDATE bids SET status = 'returned' WHERE id = \(bid)")
            #expect(try await units() == [world.leads[0].unitID, world.partners[0].unitID].sorted())
            let newcomer = world.partners[1]
            _ = try await db.withTransaction {
                try await BidStore.invite(id: bid, unitID: newcomer.unitID, by: world.leads[0].actor, on: $0)
            }
            #expect(try await units() == [world.leads[0].unitID, world.partners[0].unitID].sorted())
            _ = try await db.withTransaction {
                try await BidStore.respond(id: bid, unitID: newcomer.unitID, accept: true, part: BidWorld.part, by: newcomer.actor, on: $0)
            }
            #expect(try await units() == [world.leads[0].unitID, world.partners[0].unitID, newcomer.unitID].sorted())
            try await db.execute("DELETE FROM bid_members WHERE bid_id = \(bid) AND unit_id = \(world.partners[0].unitID)")
            #expect(try await units() == [world.leads[0].unitID, newcomer.unitID].sorted())
            // Submitted again, the consortium is fixed and keeps its units.
            _ = try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0) }
            #expect(try await units() == [world.leads[0].unitID, newcomer.unitID].sorted())
        }
    }

    @Test("A consortium without an accepted partner is refused by the API and by raw SQL")
    func consortiumComplete() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 1, challenges: 2)
            let alone = try await world.consortium(lead: world.leads[0], partner: nil, challenge: world.challenges[0])
            let invitedOnly = try await world.consortium(
                lead: world.leads[1], partner: world.partners[0], challenge: world.challenges[1], accepted: false)
            let update = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE bids SET status = 'submitted', version = 1 WHERE id = \(alone)")
            }
            #expect(update?.constraint == "bids_consortium_complete", "\(String(describing: update))")
            let insert = await #expect(throws: PostgresError.self) {
                try await db.execute(
                    """
                    INSERT INTO bids (programme_id, challenge_id, lead_unit_id, region_code, status, version, total_investment_fen,
                                      requested_funding_fen, completion_commitment)
                    VALUES (\(world.programme), \(world.challenges[0]), \(world.leads[0].unitID), '620100', 'submitted', 1,
                            1000000000, 100000000, true)
                    """)
            }
            #expect(insert?.constraint == "bids_consortium_complete")
            try await world.fixture.application().test(.router) { client in
                for (bid, lead) in [(alone, world.leads[0]), (invitedOnly, world.leads[1])] {
                    let reply = try await client.call(.post, "/v1/bids/\(bid)/submit", headers: [.authorization: "Bearer \(lead.token)"])
                    #expect(reply.status == .unprocessableContent)
                    #expect(reply.problemFields == ["members"])
                }
                let status = try await db.query("SELECT status::text FROM bids WHERE id = \(alone)").first!.decode(String.self)
                #expect(status == "draft")
            }
        }
    }

    @Test("After the deadline a bid can no longer be submitted or changed")
    func deadline() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1, challenges: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            try await world.closeWindow(of: world.challenges[0])
            let refused = await #expect(throws: DomainError.self) {
                try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0) }
            }
            #expect(refused?.description.contains("deadline") == true)
            let raw = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE bids SET status = 'submitted', version = 1 WHERE id = \(bid)")
            }
            #expect(raw?.constraint == "bids_locked_after_deadline")
        }
    }

    @Test("Recommenders see and decide only their region's bids; a region's quota holds under concurrent recommendations")
    func recommendation() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 3, partners: 3, challenges: 3)
            var submitted: [Int] = []
            for index in 0..<3 {
                let bid = try await world.consortium(
                    lead: world.leads[index], partner: world.partners[index], challenge: world.challenges[index])
                _ = try await db.withTransaction {
                    try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[index].actor, on: $0)
                }
                submitted.append(bid)
            }
            let bids = submitted
            try await world.fixture.application().test(.router) { client in
                let fixture = world.fixture
                let hidden = try await client.call(.get, "/v1/bids/\(bids[0])", as: "jinchang", fixture: fixture)
                #expect(hidden.status == .notFound)
                let foreign = try await client.call(
                    .post, "/v1/bids/\(bids[0])/recommendation", as: "jinchang", fixture: fixture,
                    json: ["decision": "recommend", "opinion": "同意推荐"])
                #expect(foreign.status == .notFound)
                let listed = try await client.call(.get, "/v1/bids", as: "lanzhou", fixture: fixture)
                #expect(Set((listed.object["items"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []) == Set(bids))
                let notYet = try await client.call(.get, "/v1/bids/\(bids[0])", as: "publisher", fixture: fixture)
                #expect(notYet.status == .notFound)
                let quota = try await client.call(
                    .put, "/v1/programmes/\(world.programme)/quotas/620100", as: "publisher", fixture: fixture, json: ["quota": 1])
                #expect(quota.status == .ok)
                let decisions = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for bid in bids.prefix(2) {
                        group.addTask {
                            try await client.call(
                                .post, "/v1/bids/\(bid)/recommendation", as: "lanzhou", fixture: fixture,
                                json: ["decision": "recommend", "opinion": "该联合体研发基础扎实，同意推荐"]
                            ).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(decisions.sorted { $0.code < $1.code } == [.ok, .conflict])
                let returned = try await client.call(
                    .post, "/v1/bids/\(bids[2])/recommendation", as: "lanzhou", fixture: fixture,
                    json: ["decision": "return", "opinion": "请补充中试数据"])
                #expect(returned.object["status"] as? String == "returned")
                let edit = try await client.call(
                    .put, "/v1/bids/\(bids[2])",
                    headers: [
                        .authorization: "Bearer \(world.leads[2].token)", .ifMatch: try #require(returned.etag),
                    ])
                #expect(edit.status == .badRequest)
                let resubmitted = try await client.call(
                    .post, "/v1/bids/\(bids[2])/submit", headers: [.authorization: "Bearer \(world.leads[2].token)"])
                #expect(resubmitted.object["version"] as? Int == 2)
                let receipts = try await client.call(.get, "/v1/bids/\(bids[2])/submissions", as: "lanzhou", fixture: fixture)
                let versions = (receipts.object["items"] as? [[String: Any]])?.compactMap { $0["version"] as? Int }
                #expect(versions == [1, 2])
                #expect(
                    (receipts.object["items"] as? [[String: Any]])?.last?["sha256"] as? String == resubmitted.object["sha256"] as? String)
                let recommended = try #require(
                    try await db.query("SELECT id FROM bids WHERE status = 'recommended'").first?.decode(Int.self))
                let failing = try await client.call(
                    .post, "/v1/bids/\(recommended)/formal-check", as: "publisher", fixture: fixture,
                    json: ["items": BidReview.formalCheckItems.map { ["item": $0.code, "passed": $0.code != "commitment_signed"] }])
                #expect(failing.status == .unprocessableContent)
                #expect(failing.problemFields == ["items[3].reason"])
                let checked = try await client.call(
                    .post, "/v1/bids/\(recommended)/formal-check", as: "publisher", fixture: fixture,
                    json: ["items": BidReview.formalCheckItems.map { ["item": $0.code, "passed": true] }])
                #expect(checked.object["status"] as? String == "formal_passed")
                let csv = try await client.execute(
                    uri: "/v1/programmes/\(world.programme)/bids/summary?format=csv", method: .get,
                    headers: [.authorization: "Bearer \(fixture.tokens["publisher"]!)"])
                let bytes = Array(csv.body.readableBytesView)
                #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
                let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
                #expect(text.hasPrefix("申请编号,榜单任务,牵头单位"))
                #expect(text.split(separator: "\r\n").count == 4)
                #expect(text.contains("形式审查通过"))
                let xlsx = try await client.execute(
                    uri: "/v1/programmes/\(world.programme)/bids/summary?format=xlsx&region=620100", method: .get,
                    headers: [.authorization: "Bearer \(fixture.tokens["lanzhou"]!)"])
                #expect(xlsx.status == .ok)
                #expect(Array(xlsx.body.readableBytesView).starts(with: [0x50, 0x4B, 0x03, 0x04]))
                let otherRegion = try await client.execute(
                    uri: "/v1/programmes/\(world.programme)/bids/summary?region=620100", method: .get,
                    headers: [.authorization: "Bearer \(fixture.tokens["jinchang"]!)"])
                #expect(otherRegion.status == .forbidden)
                let raw = await #expect(throws: PostgresError.self) {
                    try await db.execute("UPDATE bids SET status = 'recommended' WHERE id = \(bids[1]) OR id = \(bids[0])")
                }
                #expect(raw?.constraint == "bids_region_quota", "\(String(describing: raw))")
            }
        }
    }

    @Test("Attachments are PDFs with their SHA-256, downloadable only by those who may read the bid")
    func attachments() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 1, challenges: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            let raw = await #expect(throws: PostgresError.self) {
                try await db.execute(
                    "INSERT INTO bid_attachments (bid_id, filename, content_type, size_bytes, sha256, data) VALUES (\(bid), 'x.pdf', 'application/pdf', 3, \(String(repeating: "a", count: 64)), '\\x616263'::bytea)"
                )
            }
            #expect(raw?.constraint == "bid_attachments_pdf", "\(String(describing: raw))")
            try await world.fixture.application().test(.router) { client in
                let lead: HTTPFields = [.authorization: "Bearer \(world.leads[0].token)", .contentType: "application/pdf"]
                let text = try await client.execute(
                    uri: "/v1/bids/\(bid)/attachments?filename=a.pdf", method: .post, headers: lead, body: ByteBuffer(string: "hello"))
                #expect(text.status == .unprocessableContent)
                let pdf = Array("%PDF-1.7\n申报书\n%%EOF\n".utf8)
                let uploaded = try await client.execute(
                    uri: "/v1/bids/\(bid)/attachments?filename=%E7%94%B3%E6%8A%A5%E4%B9%A6.pdf", method: .post, headers: lead,
                    body: ByteBuffer(bytes: pdf))
                #expect(uploaded.status == .created)
                let info = try JSONSerialization.jsonObject(with: Data(uploaded.body.readableBytesView)) as? [String: Any]
                let id = try #require(info?["id"] as? Int)
                #expect(info?["filename"] as? String == "申报书.pdf")
                #expect((info?["sha256"] as? String)?.count == 64)
                let byPartner = try await client.execute(
                    uri: "/v1/bids/\(bid)/attachments/\(id)", method: .get,
                    headers: [.authorization: "Bearer \(world.partners[0].token)"])
                #expect(byPartner.status == .ok)
                #expect(Array(byPartner.body.readableBytesView) == pdf)
                #expect(byPartner.headers[.contentDisposition] == "attachment; filename*=UTF-8''%E7%94%B3%E6%8A%A5%E4%B9%A6.pdf")
                let byStranger = try await client.execute(
                    uri: "/v1/bids/\(bid)/attachments/\(id)", method: .get,
                    headers: [.authorization: "Bearer \(world.leads[1].token)"])
                #expect(byStranger.status == .notFound)
            }
        }
    }
}

import Foundation
import HTTPTypes
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// The talent pool (人才库): the people a unit offers, read within the unit's scope, one record per person.
@Suite("The talent pool")
struct TalentTests {
    static func input(unitID: Int, expertID: Int? = nil) -> TalentFiling.Input {
        TalentFiling.Input(
            unitID: unitID, name: "孙立新", title: "研究员", fields: ["湿法冶金", "电池材料"], industryChains: ["有色冶金"],
            keywords: ["高镍三元", "前驱体"], summary: "开发高镍三元正极材料前驱体连续共沉淀的清洁生产工艺。", availability: "limited",
            expertID: expertID, contactName: "赵工", contactPhone: "0935-8123456", contactEmail: "zhao@example.cn")
    }

    static func body(unitID: Int) -> [String: Any] {
        [
            "unitID": unitID, "name": "孙立新", "title": "研究员", "fields": ["湿法冶金", "电池材料"], "industryChains": ["有色冶金"],
            "keywords": ["高镍三元", "前驱体"], "summary": "开发高镍三元正极材料前驱体连续共沉淀的清洁生产工艺。",
            "contactName": "赵工", "contactPhone": "0935-8123456", "contactEmail": "zhao@example.cn",
        ]
    }

    /// An expert of the Gansu pool who works for `unitID`.
    static func expert(_ login: String, unitID: Int?, fixture: APIFixture) async throws -> Int {
        try await fixture.db.withTransaction { tx in
            let id = try await AccountStore.createUser(
                .init(login: login, displayName: login, role: .expert), passwordHash: nil, by: "test", on: tx)
            try await tx.execute(
                """
                INSERT INTO experts (user_id, bureau_id, unit_id, organisation, region_code)
                VALUES (\(id), \(fixture.provinceBureau), \(unitID), '金川镍钴研究院', '620300')
                """)
            return id
        }
    }

    static func actor(_ name: String, _ fixture: APIFixture) async throws -> Actor {
        try await fixture.db.withConnection { try await AccountStore.authenticate(AccessToken(value: fixture.tokens[name]!), on: $0)! }
    }

    @Test(
        "A unit files one of its people and reads them, its bureaus read them too, and another unit gets 404 as for a missing id and an empty list"
    )
    func fileAndReadWithinScope() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let institute = try await Self.actor("memberB", fixture)
            let enterprise = try await Self.actor("memberA", fixture)
            let filed = try await db.withTransaction {
                try await TalentFiling.file(Self.input(unitID: fixture.unitB), by: institute, on: $0)
            }
            #expect(filed.unitID == fixture.unitB && filed.regionCode == "620300" && filed.availability == "limited")
            #expect(filed.fields == ["湿法冶金", "电池材料"] && filed.keywords == ["高镍三元", "前驱体"] && filed.revision == 1)
            #expect(filed.expertID == nil && filed.filedByBureauID == nil)
            for reader in ["memberB", "adminB", "jinchang", "publisher", "admin"] {
                let actor = try await Self.actor(reader, fixture)
                let read = try await db.withConnection { try await TalentFiling.talent(id: filed.id, for: actor, on: $0) }
                #expect(read == filed, "\(reader)")
            }
            // An enterprise has people too: unit A files its own.
            let own = try await db.withTransaction {
                try await TalentFiling.file(Self.input(unitID: fixture.unitA), by: enterprise, on: $0)
            }
            #expect(own.unitID == fixture.unitA)

            let hidden = await #expect(throws: DomainError.self) {
                _ = try await db.withConnection { try await TalentFiling.talent(id: filed.id, for: enterprise, on: $0) }
            }
            let missing = await #expect(throws: DomainError.self) {
                _ = try await db.withConnection { try await TalentFiling.talent(id: 2_000_000_000, for: enterprise, on: $0) }
            }
            #expect(hidden == .notFound("no talent has id \(filed.id)"))
            #expect(missing == .notFound("no talent has id 2000000000"))
            let foreignFiling = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction { try await TalentFiling.file(Self.input(unitID: fixture.unitB), by: enterprise, on: $0) }
            }
            #expect(foreignFiling == .forbidden("unit \(fixture.unitB) is outside your scope"))

            func listed(_ name: String) async throws -> [Int] {
                let actor = try await Self.actor(name, fixture)
                return try await db.withConnection { try await TalentFiling.list(beforeID: nil, limit: 50, for: actor, on: $0) }.map(\.id)
            }
            #expect(try await listed("memberA") == [own.id])
            #expect(try await listed("memberB") == [filed.id])
            #expect(try await listed("jinchang") == [filed.id])
            #expect(try await listed("lanzhou") == [own.id])
            #expect(try await listed("publisher") == [own.id, filed.id])
            #expect(try await listed("otherPublisher") == [])
            await #expect(throws: DomainError.self) { _ = try await listed("expert") }
        }
    }

    @Test(
        "Over HTTP: a bureau files for a unit in its region (201), bad input answers 422 naming every field at fault, another unit's person 404"
    )
    func overHTTP() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let filed = try await client.call(
                    .post, "/v1/talents", as: "jinchang", fixture: fixture, json: Self.body(unitID: fixture.unitB))
                #expect(filed.status == .created)
                let id = try #require(filed.object["id"] as? Int)
                #expect(filed.headers[.location] == "/v1/talents/\(id)")
                #expect(filed.object["availability"] as? String == "available")
                #expect(filed.object["filedByBureauID"] as? Int != nil)

                var bad = Self.body(unitID: fixture.unitB)
                bad["fields"] = [String]()
                bad["keywords"] = ["前驱体", "前驱体"]
                bad["availability"] = "busy"
                bad["summary"] = "太短"
                bad["contactEmail"] = "not an address"
                let refused = try await client.call(.post, "/v1/talents", as: "memberB", fixture: fixture, json: bad)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.problemFields == ["fields", "keywords", "availability", "summary", "contactEmail"])

                let shown = try await client.call(.get, "/v1/talents/\(id)", as: "memberB", fixture: fixture)
                #expect(shown.status == .ok && shown.etag == "\"1\"")
                let other = try await client.call(.get, "/v1/talents/\(id)", as: "memberA", fixture: fixture)
                let ghost = try await client.call(.get, "/v1/talents/2000000000", as: "memberA", fixture: fixture)
                #expect(other.status == .notFound && ghost.status == .notFound)
                #expect(other.object["detail"] as? String == "no talent has id \(id)")
                let page = try await client.call(.get, "/v1/talents", as: "memberA", fixture: fixture)
                #expect((page.object["items"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test(
        "A change needs If-Match: none is 428, an old revision 412, the current one changes the record and bumps its revision; the unit stays"
    )
    func changeWithIfMatch() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let filed = try await client.call(
                    .post, "/v1/talents", as: "memberB", fixture: fixture, json: Self.body(unitID: fixture.unitB))
                let id = try #require(filed.object["id"] as? Int)
                var edit = Self.body(unitID: fixture.unitB)
                edit["availability"] = "unavailable"
                edit["keywords"] = ["高镍三元", "前驱体", "共沉淀"]
                let none = try await client.call(.put, "/v1/talents/\(id)", as: "memberB", fixture: fixture, json: edit)
                #expect(none.status == .preconditionRequired)
                let changed = try await client.call(
                    .put, "/v1/talents/\(id)", as: "adminB", fixture: fixture, json: edit, headers: [.ifMatch: try #require(filed.etag)])
                #expect(changed.status == .ok && changed.etag == "\"2\"")
                #expect(changed.object["availability"] as? String == "unavailable")
                #expect(changed.object["keywords"] as? [String] == ["高镍三元", "前驱体", "共沉淀"])
                let stale = try await client.call(
                    .put, "/v1/talents/\(id)", as: "memberB", fixture: fixture, json: edit, headers: [.ifMatch: "\"1\""])
                #expect(stale.status == .preconditionFailed)
                let foreign = try await client.call(
                    .put, "/v1/talents/\(id)", as: "adminA", fixture: fixture, json: edit, headers: [.ifMatch: "\"2\""])
                #expect(foreign.status == .notFound)
                var moved = edit
                moved["unitID"] = fixture.unitA
                let move = try await client.call(
                    .put, "/v1/talents/\(id)", as: "memberB", fixture: fixture, json: moved, headers: [.ifMatch: "\"2\""])
                #expect(move.status == .unprocessableContent && move.problemFields == ["unitID"])
                let pairs = try await db.query(
                    "SELECT pairs @> text_pair_hashes('沉淀 冶金 前驱') FROM talents WHERE id = \(id)"
                ).first!.decode(Bool.self)
                #expect(pairs, "the person's fields, keywords and summary are matched by their character pairs")
            }
        }
    }

    @Test("The database refuses bad rows written by hand, each by a named constraint the catalogue explains")
    func databaseRefusesBadRows() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            // The constraint a row violates and the field the catalogue names for it.
            func insert(
                fields: String = "ARRAY['湿法冶金']", keywords: String = "'{}'", availability: String = "'available'",
                summary: String = "'开发高镍三元正极材料前驱体工艺。'", phone: String = "'0935-8123456'"
            ) async throws -> String? {
                do {
                    try await db.execute(
                        """
                        INSERT INTO talents (unit_id, region_code, name, fields, keywords, summary, availability,
                                             contact_name, contact_phone, contact_email)
                        VALUES (\(fixture.unitB), '620300', '孙立新', \(unsafeRaw: fields), \(unsafeRaw: keywords),
                                \(unsafeRaw: summary), \(unsafeRaw: availability), '赵工', \(unsafeRaw: phone), 'zhao@example.cn')
                        """)
                    return nil
                } catch let error as PostgresError {
                    guard case .invalid(let issues) = ConstraintCatalog.domainError(for: error) else { return error.constraint }
                    return "\(error.constraint ?? "?") \(issues.map(\.field).joined(separator: ","))"
                }
            }
            #expect(try await insert() == nil)
            #expect(try await insert(fields: "'{}'") == "talents_fields fields")
            #expect(try await insert(fields: "ARRAY['湿法冶金', '湿法冶金']") == "talents_fields fields")
            #expect(try await insert(keywords: "ARRAY['']") == "talents_keywords keywords")
            #expect(try await insert(availability: "'busy'") == "talents_availability_known availability")
            #expect(try await insert(summary: "'短'") == "talents_summary_length summary")
            #expect(try await insert(phone: "'call me'") == "talents_contact_phone_format contactPhone")
        }
    }

    @Test(
        "One person, one record: an expert is linked to at most one talent and only of the unit it works for, and the link goes when the expert moves to another unit"
    )
    func expertLinkIsUnique() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let institute = try await Self.actor("memberB", fixture)
            let expert = try await Self.expert("jinchuan.expert", unitID: fixture.unitB, fixture: fixture)
            let outsider = try await Self.expert("lanzhou.expert", unitID: fixture.unitA, fixture: fixture)
            let linked = try await db.withTransaction {
                try await TalentFiling.file(Self.input(unitID: fixture.unitB, expertID: expert), by: institute, on: $0)
            }
            #expect(linked.expertID == expert)

            let twice = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction {
                    try await TalentFiling.file(Self.input(unitID: fixture.unitB, expertID: expert), by: institute, on: $0)
                }
            }
            #expect(twice == .conflict(field: "expertID", message: "the expert has a talent record already: one person, one record"))
            let foreign = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction {
                    try await TalentFiling.file(Self.input(unitID: fixture.unitB, expertID: outsider), by: institute, on: $0)
                }
            }
            #expect(foreign == .invalid("expertID", "no expert of unit \(fixture.unitB) has id \(outsider)"))

            let byHandTwice = await ReviewRoundTests.violation {
                try await db.execute(
                    """
                    INSERT INTO talents (unit_id, region_code, expert_id, name, fields, summary, contact_name, contact_phone, contact_email)
                    VALUES (\(fixture.unitB), '620300', \(expert), '孙立新', ARRAY['湿法冶金'], '开发高镍三元正极材料前驱体工艺。', '赵工',
                            '0935-8123456', 'zhao@example.cn')
                    """)
            }
            #expect(byHandTwice == "talents_expert_id_key")
            let byHandForeign = await ReviewRoundTests.violation {
                try await db.execute("UPDATE talents SET expert_id = \(outsider) WHERE id = \(linked.id)")
            }
            #expect(byHandForeign == "talents_expert_same_unit")

            try await db.execute("UPDATE experts SET unit_id = \(fixture.unitA) WHERE user_id = \(expert)")
            let after = try await db.query("SELECT expert_id, revision FROM talents WHERE id = \(linked.id)").first!.decode(
                (Int?, Int).self)
            #expect(after.0 == nil && after.1 == 2)
        }
    }

    @Test("The demo's universities and institute file people whose keywords appear in the demo demands' needs")
    func demoPeopleMeetDemands() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await db.withTransaction { _ = try await DemoData.load(on: $0) }
            let count = try await db.query("SELECT count(*) FROM talents").first!.decode(Int.self)
            #expect((4...6).contains(count))
            let unmatched = try await db.query(
                """
                SELECT t.name FROM talents t
                WHERE NOT EXISTS (
                    SELECT 1 FROM demands d, unnest(t.keywords) AS k
                    WHERE position(k IN d.need) > 0 AND d.pairs @> text_pair_hashes(k) AND d.industry_chain = ANY (t.industry_chains))
                """
            ).decode(String.self)
            #expect(unmatched == [])
            let kinds = try await db.query("SELECT DISTINCT u.kind::text FROM talents t JOIN units u ON u.id = t.unit_id").decode(
                String.self)
            #expect(Set(kinds).isSubset(of: ["university", "institute"]))
            _ = try await db.withTransaction { try await PoolMatches.rematchAll(on: $0) }
            let suggested = try await db.query(
                "SELECT count(DISTINCT offer_id)::bigint FROM pool_matches WHERE offer_kind = 'talent'"
            ).first!.decode(Int.self)
            #expect(suggested == count, "every demo person is suggested for a demo demand")
        }
    }
}

import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("The expert pool")
struct ExpertPoolTests {
    static let header = "姓名,登录名,工作单位,所在地区,统一社会信用代码,职称,专业领域,产业链,关键词,评审上限,回避单位"

    /// The credit codes of the two units `world` registers.
    static let lzuCode = "12620000438000431B"
    static let jinchuanCode = try! CreditCode.completing("91620300MA7JCNE01").value

    static func row(
        name: String = "王磊", login: String = "wang.lei", organisation: String = "兰州大学", region: String = "620100",
        code: String = "", title: String = "教授", domains: String = "新材料；稀土功能材料", chains: String = "有色冶金",
        keywords: String = "稀土永磁、晶界扩散", cap: String = "8", ties: String = ""
    ) -> String {
        [name, login, organisation, region, code, title, domains, chains, keywords, cap, ties].joined(separator: ",")
    }

    /// A provincial and a municipal bureau, two units and a publisher of the province.
    struct World {
        var province: Int
        var city: Int
        var lzu: Int
        var jinchuan: Int
        var publisher: Actor
    }

    static func world(_ db: PostgresClient) async throws -> World {
        try await db.withTransaction { tx in
            let province = try await AccountStore.createBureau(name: "甘肃省工业和信息化厅", level: "province", regionCode: "620000", on: tx)
            let city = try await AccountStore.createBureau(name: "兰州市工业和信息化局", level: "municipal", regionCode: "620100", on: tx)
            var units: [Int] = []
            for (name, code, region) in [("兰州大学", lzuCode, "620100"), ("金川集团股份有限公司", jinchuanCode, "620300")] {
                units.append(
                    try await tx.query(
                        """
                        INSERT INTO units (kind, name, credit_code, region_code, contact_name, contact_phone, contact_email, verification, decided_at)
                        VALUES ('enterprise', \(name), \(code), \(region), '李老师', '0931-8912345', 'li@example.cn', 'verified', now())
                        RETURNING id
                        """
                    ).first!.decode(Int.self))
            }
            let id = try await AccountStore.createUser(
                .init(login: "publisher", displayName: "发榜人", role: .provincialPublisher, bureauID: province),
                passwordHash: nil, by: "test", on: tx)
            let publisher = Actor(
                userID: id, displayName: "发榜人", role: .provincialPublisher, unitID: nil, bureauID: province, regionCode: "620000")
            return World(province: province, city: city, lzu: units[0], jinchuan: units[1], publisher: publisher)
        }
    }

    /// Imports `text` into `bureau`'s pool in one transaction, rolling back on a failure as the callers do.
    static func importing(_ text: String, bureau: Int, on db: PostgresClient) async throws -> Result<
        ExpertImport.Summary, ExpertImport.Failure
    > {
        let rows: [ExpertImport.Row]
        switch ExpertImport.parse(text) {
        case .success(let parsed): rows = parsed
        case .failure(let failure): return .failure(failure)
        }
        do {
            return .success(
                try await db.withTransaction { tx in
                    switch try await ExpertStore.importRows(rows, bureauID: bureau, actor: "test", on: tx) {
                    case .success(let summary): return summary
                    case .failure(let failure): throw failure
                    }
                })
        } catch let failure as ExpertImport.Failure {
            return .failure(failure)
        }
    }

    @Test("A table is read with its lists split on ；; 、 and ，, repeats dropped, Gansu's names as region codes and a default load cap")
    func parsesRows() throws {
        let text =
            "\u{FEFF}"
            + [
                Self.header,
                Self.row(domains: "新材料；稀土功能材料;新材料", keywords: "稀土永磁、晶界扩散，磁体", ties: Self.jinchuanCode),
                Self.row(name: "李娜", login: "Li.Na", region: "金昌市", cap: ""),
                Self.row(name: "赵敏", login: "zhao.min", region: "甘肃省"),
            ].joined(separator: "\r\n")
        let rows = try ExpertImport.parse(text).get()
        #expect(rows.map(\.line) == [2, 3, 4])
        #expect(rows[0].profile.domains == ["新材料", "稀土功能材料"])
        #expect(rows[0].profile.keywords == ["稀土永磁", "晶界扩散", "磁体"])
        #expect(rows[0].tieCodes.map(\.value) == [Self.jinchuanCode])
        #expect(rows[1].login == "li.na")
        #expect(rows[1].profile.regionCode == "620300")
        #expect(rows[1].profile.loadCap == ExpertInput.defaultLoadCap)
        #expect(rows[2].profile.regionCode == "620000")
    }

    @Test("Every bad row is reported with its line, column and reason")
    func reportsEveryBadRow() throws {
        let text = [
            Self.header,
            Self.row(),
            Self.row(name: "", login: "aaa1"),
            Self.row(login: "wang.lei"),
            Self.row(login: "bbb1", organisation: "兰"),
            Self.row(login: "ccc1", region: "火星"),
            Self.row(login: "ddd1", region: "620101"),
            Self.row(login: "eee1", code: "91330100799655058C"),
            Self.row(login: "fff1", title: String(repeating: "职", count: 101)),
            Self.row(login: "ggg1", domains: String(repeating: "材", count: 51)),
            Self.row(login: "hhh1", keywords: (1...51).map { "词\($0)" }.joined(separator: "、")),
            Self.row(login: "iii1", cap: "八"),
            Self.row(login: "jjj1", cap: "0"),
            Self.row(login: "kkk1", ties: "91330100799655058C"),
            Self.row(login: "lll1", chains: "有色\u{0}冶金"),
            Self.row(login: "mmm1") + ",多余",
        ].joined(separator: "\n")
        guard case .failure(let failure) = ExpertImport.parse(text) else {
            Issue.record("a file with bad rows was accepted")
            return
        }
        let found = Set(failure.errors.map { "\($0.line):\($0.column)" })
        #expect(
            found == [
                "3:姓名", "4:登录名", "5:工作单位", "6:所在地区", "7:所在地区", "8:统一社会信用代码", "9:职称", "10:专业领域",
                "11:关键词", "12:评审上限", "13:评审上限", "14:回避单位", "15:产业链", "16:column 12",
            ])
        #expect(failure.errors.first { $0.line == 4 }?.message == "wang.lei is also on line 2")
        #expect(failure.errors.first { $0.line == 12 }?.message == "八 is not a whole number")
        #expect(failure.errors.first { $0.line == 13 }?.message == "must be between 1 and 200, not 0")
        #expect(failure.errors.first { $0.line == 15 }?.message == "must not contain NUL (U+0000)")
        #expect(failure.errors.allSatisfy { $0.line != 2 })
        #expect(failure.description.contains("line 11, 关键词: must list at most 50 items, not 51"))
    }

    @Test("A file without its required columns, with an open quote, or with no rows is refused as a whole")
    func refusesBrokenFiles() {
        let cases: [(String, String)] = [
            ("姓名,登录名\n王磊,wang", "line 1, -: missing columns: 工作单位, 所在地区"),
            (Self.header + "\n\"王磊,wang", "line 2, -: a quoted field is not closed"),
            (Self.header + "\n", "line 1, -: the file has no rows below its header"),
            ("", "line 1, -: the file is empty"),
        ]
        for (text, message) in cases {
            guard case .failure(let failure) = ExpertImport.parse(text) else {
                Issue.record("\(text.debugDescription) was accepted")
                continue
            }
            #expect(failure.description == message)
        }
    }

    @Test("An import creates accounts and profiles with their ties, reports progress, and a re-import updates by login")
    func importsAndReimports() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.world(db)
            let rows = try ExpertImport.parse(
                [
                    Self.header,
                    Self.row(code: Self.lzuCode, ties: Self.jinchuanCode),
                    Self.row(name: "李娜", login: "li.na", organisation: "金川集团", region: "620300"),
                    Self.row(name: "赵敏", login: "zhao.min"),
                ].joined(separator: "\n")
            ).get()
            var progress: [Int] = []
            let summary = try await db.withTransaction { tx in
                try await ExpertStore.importRows(rows, bureauID: world.province, actor: "test", on: tx, progressEvery: 2) {
                    progress.append($0)
                }.get()
            }
            #expect(summary == ExpertImport.Summary(rows: 3, created: 3, updated: 0, ties: 1))
            #expect(progress == [2, 3])
            let wang = try await db.query(
                """
                SELECT u.role::text, u.password_hash IS NULL, e.unit_id, e.organisation_key, e.domains, e.load_cap, e.bureau_id
                FROM users u JOIN experts e ON e.user_id = u.id WHERE u.login = 'wang.lei'
                """
            ).first!.decode((String, Bool, Int?, String, [String], Int, Int).self)
            #expect(wang.0 == "expert" && wang.1 && wang.2 == world.lzu && wang.3 == "unit:\(world.lzu)")
            #expect(wang.4 == ["新材料", "稀土功能材料"] && wang.5 == 8 && wang.6 == world.province)
            let ties = try await db.query("SELECT unit_id, reason FROM expert_ties").decode((Int, String).self)
            #expect(ties.map(\.0) == [world.jinchuan] && ties.map(\.1) == [ExpertStore.importedTieReason])

            let again = try await Self.importing(
                [Self.header, Self.row(name: "王磊教授", cap: "12", ties: Self.jinchuanCode)].joined(separator: "\n"),
                bureau: world.province, on: db)
            #expect(try again.get() == ExpertImport.Summary(rows: 1, created: 0, updated: 1, ties: 1))
            let updated = try await db.query(
                "SELECT u.display_name, e.load_cap, e.unit_id, e.revision FROM users u JOIN experts e ON e.user_id = u.id WHERE login = 'wang.lei'"
            ).first!.decode((String, Int, Int?, Int).self)
            #expect(updated.0 == "王磊教授" && updated.1 == 12 && updated.2 == nil && updated.3 == 2)
            #expect(try await db.query("SELECT count(*) FROM experts").first!.decode(Int.self) == 3)
            #expect(try await db.query("SELECT count(*) FROM expert_ties").first!.decode(Int.self) == 1)
        }
    }

    @Test(
        "An expert table may give 电子邮箱: a new expert gets the address, a re-import with an empty cell keeps it, a bad one is reported by line"
    )
    func importsEmail() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.world(db)
            let header = "姓名,登录名,工作单位,所在地区,电子邮箱"
            let first = try await Self.importing(
                [header, "王磊,wang.lei,兰州大学,兰州市,wang.lei@lzu.edu.cn", "李娜,li.na,金川集团,620300,"].joined(separator: "\n"),
                bureau: world.province, on: db)
            #expect(try first.get().created == 2)
            let emails = try await db.query("SELECT login, email FROM users WHERE role = 'expert' ORDER BY login").decode(
                (String, String?).self)
            #expect(emails.map(\.1) == [nil, "wang.lei@lzu.edu.cn"])
            _ = try await Self.importing([header, "王磊,wang.lei,兰州大学,兰州市,"].joined(separator: "\n"), bureau: world.province, on: db)
            #expect(
                try await db.query("SELECT email FROM users WHERE login = 'wang.lei'").first!.decode(String?.self) == "wang.lei@lzu.edu.cn")
            guard case .failure(let failure) = ExpertImport.parse([header, "赵敏,zhao.min,兰州大学,兰州市,赵敏@lzu"].joined(separator: "\n"))
            else {
                Issue.record("a bad address must be refused")
                return
            }
            #expect(failure.errors.map(\.column) == ["电子邮箱"])
            #expect(failure.errors.map(\.line) == [2])
        }
    }

    @Test("A tie by a credit code that a pending squatter claims too binds the expert to the verified unit")
    func tieNamesTheVerifiedUnit() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.world(db)
            let squatter = try await db.query(
                """
                INSERT INTO units (kind, name, credit_code, region_code, contact_name, contact_phone, contact_email)
                SELECT kind, '冒名单位', credit_code, region_code, contact_name, contact_phone, contact_email FROM units WHERE id = \(world.jinchuan)
                RETURNING id, verification
                """
            ).first!.decode((Int, String).self)
            #expect(squatter.0 > world.jinchuan && squatter.1 == "pending")
            let imported = try await Self.importing(
                [Self.header, Self.row(ties: Self.jinchuanCode)].joined(separator: "\n"), bureau: world.province, on: db)
            #expect(try imported.get().ties == 1)
            #expect(try await db.query("SELECT unit_id FROM expert_ties").map { try $0.decode(Int.self) } == [world.jinchuan])
        }
    }

    @Test("An import with one row the database refuses writes nothing at all")
    func allOrNothing() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.world(db)
            let unknown = try CreditCode.completing("91110000MA0000000").value
            let text = [
                Self.header, Self.row(), Self.row(name: "李娜", login: "li.na", ties: unknown),
                Self.row(name: "冒名", login: "publisher"), Self.row(name: "赵敏", login: "zhao.min", code: Self.jinchuanCode),
            ].joined(separator: "\n")
            let parsed = try ExpertImport.parse(text).get()
            let outcome = try await db.withTransaction { tx in
                try await ExpertStore.importRows(parsed, bureauID: world.province, actor: "test", on: tx)
            }
            guard case .failure(let failure) = outcome else {
                Issue.record("an import with unknown units and a taken login succeeded")
                return
            }
            #expect(Set(failure.errors.map { "\($0.line):\($0.column)" }) == ["3:回避单位", "4:登录名"])
            #expect(failure.errors.first { $0.line == 4 }?.message == "publisher is a user who is not an expert")
            #expect(try await db.query("SELECT count(*) FROM experts").first!.decode(Int.self) == 0)
            #expect(try await db.query("SELECT count(*) FROM users WHERE role = 'expert'").first!.decode(Int.self) == 0)
            await #expect(throws: DomainError.self) {
                _ = try await Self.importing([Self.header, Self.row()].joined(separator: "\n"), bureau: world.city, on: db)
            }
            #expect(try await db.query("SELECT count(*) FROM users WHERE role = 'expert'").first!.decode(Int.self) == 0)
        }
    }

    @Test("The database refuses a profile of a non-expert, a municipal pool, a role change, a retired expert made available, and bad tags")
    func databaseRules() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await Self.world(db)
            let expert = try await db.withTransaction { tx in
                try await ExpertStore.create(
                    ExpertInput(login: "wang.lei", displayName: "王磊", organisation: "兰州大学", regionCode: "620100"),
                    by: world.publisher, on: tx)
            }
            func refuses(_ constraint: String, _ sql: PostgresQuery, sourceLocation: SourceLocation = #_sourceLocation) async {
                await #expect(sourceLocation: sourceLocation) {
                    try await db.execute(sql)
                } throws: { ($0 as? PostgresError)?.constraint == constraint }
            }
            await refuses(
                "experts_user_expert",
                "INSERT INTO experts (user_id, bureau_id, organisation, region_code) VALUES (\(world.publisher.userID), \(world.province), '兰州大学', '620100')"
            )
            let other = try await db.withConnection {
                try await AccountStore.createUser(
                    .init(login: "li.na", displayName: "李娜", role: .expert), passwordHash: nil, by: "test", on: $0)
            }
            await refuses(
                "experts_bureau_province",
                "INSERT INTO experts (user_id, bureau_id, organisation, region_code) VALUES (\(other), \(world.city), '兰州大学', '620100')")
            await refuses("experts_bureau_province", "UPDATE experts SET bureau_id = \(world.city) WHERE user_id = \(expert.id)")
            await refuses("experts_user_expert", "UPDATE users SET role = 'system_admin' WHERE id = \(expert.id)")
            await refuses("experts_retired_unavailable", "UPDATE experts SET retired_at = now() WHERE user_id = \(expert.id)")
            await refuses("experts_tags_length", "UPDATE experts SET keywords = ARRAY[' '] WHERE user_id = \(expert.id)")
            await refuses("experts_domains", "UPDATE experts SET domains = ARRAY['新材料', '新材料'] WHERE user_id = \(expert.id)")
            await refuses("experts_region_format", "UPDATE experts SET region_code = '620101' WHERE user_id = \(expert.id)")
            await refuses("experts_load_cap_range", "UPDATE experts SET load_cap = 0 WHERE user_id = \(expert.id)")
            await refuses(
                "expert_ties_reason_length",
                "INSERT INTO expert_ties (expert_id, unit_id, reason) VALUES (\(expert.id), \(world.lzu), ' ')")
            try await db.execute(
                "UPDATE experts SET retired_at = now(), available = false WHERE user_id = \(expert.id)")
            await refuses("experts_retired_unavailable", "UPDATE experts SET available = true WHERE user_id = \(expert.id)")
            let (revision, touched) = try await db.query(
                "SELECT revision, updated_at > created_at FROM experts WHERE user_id = \(expert.id)"
            ).first!.decode((Int, Bool).self)
            #expect(revision == expert.revision + 1 && touched)
            // Every refusal maps to a field and a sentence.
            for constraint in ["experts_user_expert", "experts_bureau_province", "experts_retired_unavailable", "experts_tags_length"] {
                var error = PostgresError(code: .server, message: "refused")
                error.constraint = constraint
                #expect(ConstraintCatalog.domainError(for: error) != nil)
            }
        }
    }

    @Test("Creating an expert checks every field in Swift first, naming each at once")
    func checksInput() async throws {
        let input = ExpertInput(
            login: "x", displayName: "", organisation: "兰", regionCode: "99", title: String(repeating: "职", count: 101),
            domains: [String(repeating: "材", count: 51)], keywords: Array(repeating: "词", count: 1) + (1...50).map { "词\($0)" },
            loadCap: 500)
        #expect(throws: DomainError.self) { try input.checked() }
        do {
            _ = try input.checked()
        } catch {
            guard case .invalid(let issues) = error else { return }
            #expect(
                Set(issues.map(\.field)) == [
                    "login", "displayName", "organisation", "regionCode", "title", "domains[0]", "keywords", "loadCap",
                ])
        }
    }
}

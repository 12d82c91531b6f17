import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// Importing a result table (成果库, seeds 000 and 004): as the demand table, all rows or none.
@Suite("Importing the result table")
struct ResultImportTests {
    static let header = "所在市州,单位名称,统一社会信用代码,成果名称,成果简介,技术领域,所属产业链,关键词,技术成熟度,知识产权,联系人,联系电话,电子邮箱"

    static func row(
        region: String = "金昌市", code: String, title: String = "镍钴湿法冶金新工艺", keywords: String = "镍钴、湿法冶金",
        maturity: String = "6", ip: String = "已授权专利", email: String = "zhao@example.cn"
    ) -> String {
        "\(region),金川镍钴研究院,\(code),\(title),\"高压酸浸提取镍钴的连续化工艺，回收率提高5个百分点。\",有色冶金,有色冶金,\(keywords),\(maturity),\(ip),赵工,0935-8123456,\(email)"
    }

    static func code(of unit: Int, on db: PostgresClient) async throws -> String {
        try await db.query("SELECT credit_code FROM units WHERE id = \(unit)").first!.decode(String.self)
    }

    static func actor(_ name: String, _ fixture: APIFixture) async throws -> Actor {
        try await fixture.db.withConnection { try await AccountStore.authenticate(AccessToken(value: fixture.tokens[name]!), on: $0)! }
    }

    @Test("A good file with a byte-order mark and CRLF imports every row in one transaction, with 知识产权 and 关键词 as stored codes and lists")
    func importsEveryRow() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let code = try await Self.code(of: fixture.unitB, on: db)
            let text =
                "\u{FEFF}"
                + ([Self.header]
                + (0..<30).map { Self.row(code: code, title: "镍钴湿法冶金新工艺\($0)", ip: $0 == 0 ? "专利申请中" : "已授权专利") })
                .joined(separator: "\r\n")
            guard case .success(let rows) = ResultImport.parse(text) else {
                Issue.record("a valid file was refused")
                return
            }
            #expect(rows.count == 30 && rows[0].line == 2 && rows[0].regionCode?.value == "620300")
            #expect(rows[0].input.ipStatus == "patent_pending" && rows[1].input.ipStatus == "patent_granted")
            #expect(rows[0].input.keywords == ["镍钴", "湿法冶金"] && rows[0].input.maturity == 6)
            let publisher = try await Self.actor("publisher", fixture)
            let outcome = try await db.withTransaction { try await ResultStore.importRows(rows, by: publisher, on: $0) }
            guard case .success(let ids) = outcome else {
                Issue.record("a valid file was refused: \(outcome)")
                return
            }
            #expect(ids.count == 30)
            let stored = try await db.query(
                """
                SELECT unit_id, region_code, filed_by_bureau_id, keywords, ip_status, maturity FROM results
                WHERE id = \(ids[0])
                """
            ).first!.decode((Int, String, Int?, [String], String, Int).self)
            #expect(stored.0 == fixture.unitB && stored.1 == "620300" && stored.2 == fixture.provinceBureau)
            #expect(stored.3 == ["镍钴", "湿法冶金"] && stored.4 == "patent_pending" && stored.5 == 6)
            #expect(try await db.query("SELECT count(*) FROM results").first!.decode(Int.self) == 30)
        }
    }

    @Test("Every bad row is reported with its line and column, a wrong-kind or unknown unit included, and the file imports nothing")
    func badRowImportsNothing() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let code = try await Self.code(of: fixture.unitB, on: db)
            let enterprise = try await Self.code(of: fixture.unitA, on: db)
            let text = [
                Self.header, Self.row(code: code), Self.row(code: code, maturity: "10"), Self.row(code: code, ip: "商业秘密"),
                Self.row(code: code, keywords: "镍钴、镍钴"), Self.row(region: "火星市", code: code, email: "nobody"),
                Self.row(code: code, title: ""),
            ].joined(separator: "\n")
            guard case .failure(let failure) = ResultImport.parse(text) else {
                Issue.record("a file with bad rows was accepted")
                return
            }
            let found = Set(failure.errors.map { "\($0.line):\($0.column)" })
            #expect(found == ["3:技术成熟度", "4:知识产权", "5:关键词", "6:所在市州", "6:电子邮箱", "7:成果名称"], "\(failure)")
            #expect(failure.errors.first { $0.line == 3 }?.message == "must be between 1 and 9, not 10", "\(failure)")
            #expect(failure.issues.contains { $0.field == "line 4, 知识产权" && $0.message.contains("已授权专利") })

            // Rows that parse but name an enterprise, or a code no unit holds: the store refuses them, nothing is written.
            let stranger = try CreditCode.completing("12620300MB0999999").value
            let units = [Self.header, Self.row(code: code), Self.row(code: enterprise), Self.row(code: stranger)].joined(separator: "\n")
            guard case .success(let rows) = ResultImport.parse(units) else {
                Issue.record("a well-formed file was refused")
                return
            }
            let publisher = try await Self.actor("publisher", fixture)
            let outcome = try await db.withTransaction { try await ResultStore.importRows(rows, by: publisher, on: $0) }
            guard case .failure(let refused) = outcome else {
                Issue.record("an enterprise's row was imported")
                return
            }
            #expect(
                refused.errors.map(\.description).sorted() == [
                    "line 3, 统一社会信用代码: unit \(fixture.unitA) is neither a university nor an institute; enterprises file demands",
                    "line 4, 统一社会信用代码: no verified unit has credit code \(stranger)",
                ])
            #expect(try await db.query("SELECT count(*) FROM results").first!.decode(Int.self) == 0)
        }
    }

    @Test(
        "POST /v1/results/import takes text/csv with a byte-order mark from the institute, answers 422 naming line and column for a bad row, 400 for bytes that are not UTF-8, 403 to an enterprise, another region and a read-only token"
    )
    func overHTTP() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let code = try await Self.code(of: fixture.unitB, on: db)
            let csv: HTTPFields = [.contentType: "text/csv"]
            let good = Data(
                ("\u{FEFF}" + [Self.header, Self.row(code: code), Self.row(code: code, title: "镍钴萃取分离工艺")].joined(separator: "\r\n")).utf8)
            let bad = Data([Self.header, Self.row(code: code), Self.row(code: code, maturity: "十")].joined(separator: "\n").utf8)
            try await fixture.application().test(.router) { client in
                let imported = try await client.call(.post, "/v1/results/import", as: "memberB", fixture: fixture, raw: good, headers: csv)
                #expect(imported.status == .ok)
                #expect(imported.object["imported"] as? Int == 2 && (imported.object["ids"] as? [Int])?.count == 2)

                let refused = try await client.call(.post, "/v1/results/import", as: "memberB", fixture: fixture, raw: bad, headers: csv)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.problemFields == ["line 3, 技术成熟度"])

                var gbk = Data(Self.header.utf8)
                gbk.append(contentsOf: [0x0A, 0xBD, 0xF0, 0xB2, 0xFD])
                let notUTF8 = try await client.call(.post, "/v1/results/import", as: "memberB", fixture: fixture, raw: gbk, headers: csv)
                #expect(notUTF8.status == .badRequest)

                for person in ["memberA", "lanzhou", "otherPublisher"] {
                    let forbidden = try await client.call(
                        .post, "/v1/results/import", as: person, fixture: fixture, raw: good, headers: csv)
                    #expect(forbidden.status == .forbidden, "\(person)")
                }
                let read = try await ApiTokenTests.create(client, as: "memberB", fixture, scopes: ["read"])
                let readToken = try #require(read.object["token"] as? String)
                var headers = csv
                headers[.authorization] = "Bearer \(readToken)"
                let readOnly = try await client.call(.post, "/v1/results/import", raw: good, headers: headers)
                #expect(readOnly.status == .forbidden)
                #expect(try await db.query("SELECT count(*) FROM results").first!.decode(Int.self) == 2)
            }
        }
    }

    @Test(
        "jiebang results import writes every row of a good file, and for a file with a bad row names its line and column and writes nothing"
    )
    func commandLine() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let code = try await Self.code(of: fixture.unitB, on: db)
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let environment = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin"]
            func importing(_ rows: [String]) throws -> (status: Int32, output: String) {
                let file = FileManager.default.temporaryDirectory.appending(path: "results-\(UUID().uuidString).csv")
                try Data(([Self.header] + rows).joined(separator: "\r\n").utf8).write(to: file)
                defer { try? FileManager.default.removeItem(at: file) }
                return try CommandLineTests.run(["results", "import", file.path], environment: environment)
            }
            let bad = try importing([Self.row(code: code), Self.row(code: code), Self.row(code: code, ip: "商业秘密")])
            #expect(bad.status != 0)
            #expect(bad.output.contains("line 4, 知识产权: 商业秘密 is not one of"), "\(bad.output)")
            #expect(try await db.query("SELECT count(*) FROM results").first!.decode(Int.self) == 0)
            let good = try importing([Self.row(code: code), Self.row(code: code, title: "镍钴萃取分离工艺")])
            #expect(good.status == 0, "\(good.output)")
            #expect(good.output.contains("Imported 2 results"))
            #expect(try await db.query("SELECT count(*) FROM results").first!.decode(Int.self) == 2)
        }
    }
}

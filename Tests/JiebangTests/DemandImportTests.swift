import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Importing the demand table")
struct DemandImportTests {
    static let header = "所在市州,企业名称,统一社会信用代码,企业性质,所属重点产业链,技术需求,支持条件,联系人,联系电话,电子邮箱,备注"

    static func row(
        region: String = "兰州市", code: String = "91330100799655058B", natures: String = "民营、高新技术",
        need: String = "稀土永磁材料高温稳定性提升", phone: String = "0931-8888888", email: String = "a@b.cn"
    ) -> String {
        "\(region),兰州某新材料有限公司,\(code),\(natures),有色冶金,\(need),\"场地、设备,资金500万元\",张工,\(phone),\(email),"
    }

    @Test("CSV quoting, line breaks in fields, CRLF and a byte-order mark are read as Excel writes them")
    func csvReader() throws {
        let records = try CSVReader.records("\u{FEFF}a,b\r\n\"x,1\",\"say \"\"hi\"\"\nthere\"\r\n\r\nlast,\n")
        #expect(records.map(\.fields) == [["a", "b"], ["x,1", "say \"hi\"\nthere"], ["last", ""]])
        #expect(records.map(\.line) == [1, 2, 5])
        #expect(throws: CSVReader.Problem.self) { try CSVReader.records("a,\"open\n") }
    }

    @Test("A NUL in any cell or header is reported with its line and column, and nothing is imported")
    func refusesNUL() throws {
        let text = [
            Self.header, Self.row(), Self.row(need: "稀土永磁\u{0}材料高温稳定性提升"), Self.row(email: "a@b.cn\u{0}"),
        ].joined(separator: "\n")
        guard case .failure(let failure) = DemandImport.parse(text) else {
            Issue.record("a file with a NUL was accepted")
            return
        }
        #expect(Set(failure.errors.map { "\($0.line):\($0.column)" }).isSuperset(of: ["3:技术需求", "4:电子邮箱"]))
        #expect(failure.errors.allSatisfy { $0.line != 2 })
        #expect(failure.errors.first { $0.line == 3 }?.message == "must not contain NUL (U+0000)")
        guard case .failure(let header) = DemandImport.parse(Self.header + ",\u{0}\n" + Self.row()) else {
            Issue.record("a header with a NUL was accepted")
            return
        }
        #expect(header.errors.map(\.description) == ["line 1, column 12: must not contain NUL (U+0000)"])
    }

    @Test("Every bad row is reported with its line, column and reason")
    func reportsEveryBadRow() throws {
        let text = [
            Self.header, Self.row(), Self.row(region: "火星市"), Self.row(code: "91330100799655058C"),
            Self.row(natures: "上市公司"), Self.row(need: ""), Self.row(phone: "call me", email: "nobody"),
        ].joined(separator: "\n")
        guard case .failure(let failure) = DemandImport.parse(text) else {
            Issue.record("a file with bad rows was accepted")
            return
        }
        let found = Set(failure.errors.map { "\($0.line):\($0.column)" })
        #expect(found == ["3:所在市州", "4:统一社会信用代码", "5:企业性质", "6:技术需求", "7:联系电话", "7:电子邮箱"])
        #expect(failure.errors.first { $0.line == 4 }?.message.contains("check character") == true)
        guard case .failure(let missing) = DemandImport.parse("所在市州,企业名称\n兰州市,x") else {
            Issue.record("a file without the needed columns was accepted")
            return
        }
        #expect(missing.errors.first?.message.hasPrefix("missing columns: 统一社会信用代码") == true)
    }

    @Test("A valid file imports every row in one transaction; one unknown unit imports nothing")
    func importsAllOrNothing() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await db.execute(
                """
                INSERT INTO units (kind, name, credit_code, region_code, contact_name, contact_phone, contact_email, verification, decided_at)
                VALUES ('enterprise', '兰州某新材料有限公司', '91330100799655058B', '620100', '张工', '0931-8888888', 'a@b.cn', 'verified', now())
                """)
            let good = ([Self.header] + (0..<2_500).map { Self.row(need: "需求编号 \($0) 的技术攻关") }).joined(separator: "\r\n")
            guard case .success(let rows) = DemandImport.parse(good) else {
                Issue.record("a valid file was refused")
                return
            }
            #expect(rows.count == 2_500)
            #expect(rows[0].natures == ["private", "high_tech"])
            #expect(rows[0].supportConditions == "场地、设备,资金500万元")
            var reported: [Int] = []
            let result = try await db.withTransaction { tx in
                try await DemandStore.importRows(rows, programmeID: nil, bureauID: nil, actor: "test", on: tx) { reported.append($0) }
            }
            #expect((try? result.get().count) == 2_500)
            #expect(reported == [1_000, 2_000, 2_500])
            let unknown = [Self.header, Self.row(), Self.row(code: "91440300708461136T")].joined(separator: "\n")
            guard case .success(let mixed) = DemandImport.parse(unknown) else {
                Issue.record("a well-formed file was refused")
                return
            }
            let refused = try await db.withTransaction { tx in
                try await DemandStore.importRows(mixed, programmeID: nil, bureauID: nil, actor: "test", on: tx)
            }
            guard case .failure(let failure) = refused else {
                Issue.record("a row with an unregistered unit was imported")
                return
            }
            #expect(failure.errors.map(\.line) == [3])
            let count = try await db.query("SELECT count(*) FROM demands").first!.decode(Int.self)
            #expect(count == 2_500)
        }
    }
}

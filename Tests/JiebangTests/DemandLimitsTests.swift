import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("One set of demand limits for the API, the CSV import and the table")
struct DemandLimitsTests {
    /// A limited column: its name in the table, its CHECK, its import header, its API field and the Swift limit.
    struct Limited: Sendable, CustomStringConvertible {
        var column: String
        var constraint: String
        var header: String
        var field: String
        var range: ClosedRange<Int>
        var description: String { column }
    }

    static let limited = [
        Limited(
            column: "industry_chain", constraint: "demands_industry_chain_length", header: "所属重点产业链", field: "industryChain",
            range: DemandLimits.industryChain),
        Limited(column: "need", constraint: "demands_need_length", header: "技术需求", field: "need", range: DemandLimits.need),
        Limited(
            column: "support_conditions", constraint: "demands_support_length", header: "支持条件", field: "supportConditions",
            range: 0...DemandLimits.supportConditions),
        Limited(
            column: "contact_name", constraint: "demands_contact_name_length", header: "联系人", field: "contactName",
            range: DemandLimits.contactName),
        Limited(column: "remarks", constraint: "demands_remarks_length", header: "备注", field: "remarks", range: 0...DemandLimits.remarks),
    ]

    static let unitRow = """
        INSERT INTO units (kind, name, credit_code, region_code, contact_name, contact_phone, contact_email, verification, decided_at)
        VALUES ('enterprise', '兰州某新材料有限公司', '91330100799655058B', '620100', '张工', '0931-8888888', 'a@b.cn', 'verified', now())
        RETURNING id
        """

    /// Inserts a demand by hand-written SQL with `value` in `column` and valid values elsewhere.
    static func rawInsert(_ column: String, _ value: String, unitID: Int, on db: PostgresClient) async throws {
        var values = [
            "industry_chain": "有色冶金", "need": "稀土永磁材料高温稳定性提升", "support_conditions": "", "contact_name": "张工",
            "remarks": "",
        ]
        values[column] = value
        try await db.execute(
            """
            INSERT INTO demands (unit_id, region_code, industry_chain, need, support_conditions, contact_name,
                                 contact_phone, contact_email, remarks)
            VALUES (\(unitID), '620100', \(values["industry_chain"]!), \(values["need"]!), \(values["support_conditions"]!),
                    \(values["contact_name"]!), '0931-8888888', 'a@b.cn', \(values["remarks"]!))
            """)
    }

    @Test(
        "Each Swift limit is the table's: the bounds are accepted and one character past them is refused by the CHECK", arguments: limited)
    func limitsMatchTheTable(_ limited: Limited) async throws {
        try await TestDatabase.withFreshDatabase { db in
            let unitID = try await db.query(PostgresQuery(unsafeSQL: Self.unitRow)).first!.decode(Int.self)
            let definition = try await db.query(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = \(limited.constraint) AND conrelid = 'demands'::regclass"
            ).first?.decode(String.self)
            #expect(definition?.contains(limited.column) == true, "no CHECK \(limited.constraint) on \(limited.column)")
            try await Self.rawInsert(limited.column, String(repeating: "稀", count: limited.range.upperBound), unitID: unitID, on: db)
            let over = await #expect(throws: PostgresError.self) {
                try await Self.rawInsert(
                    limited.column, String(repeating: "稀", count: limited.range.upperBound + 1), unitID: unitID, on: db)
            }
            #expect(over?.constraint == limited.constraint)
            if limited.range.lowerBound > 0 {
                try await Self.rawInsert(limited.column, String(repeating: "稀", count: limited.range.lowerBound), unitID: unitID, on: db)
                let under = await #expect(throws: PostgresError.self) {
                    try await Self.rawInsert(
                        limited.column, " " + String(repeating: "稀", count: limited.range.lowerBound - 1) + " ", unitID: unitID, on: db)
                }
                #expect(under?.constraint == limited.constraint)
            }
        }
    }

    @Test("The API refuses one character past each limit, naming the field", arguments: limited)
    func apiRefusesPastTheLimit(_ limited: Limited) throws {
        var input = DemandFiling.Input(
            unitID: 1, industryChain: "有色冶金", need: "稀土永磁材料高温稳定性提升", contactName: "张工", contactPhone: "0931-8888888",
            contactEmail: "a@b.cn")
        let atLimit = String(repeating: "稀", count: limited.range.upperBound)
        let over = atLimit + "稀"
        func with(_ value: String) -> DemandFiling.Input {
            var changed = input
            switch limited.field {
            case "industryChain": changed.industryChain = value
            case "need": changed.need = value
            case "supportConditions": changed.supportConditions = value
            case "contactName": changed.contactName = value
            default: changed.remarks = value
            }
            return changed
        }
        _ = try with(atLimit).checked()
        input = with(over)
        let refused = #expect(throws: DomainError.self) { try input.checked() }
        #expect(refused?.description.contains(limited.field) == true)
    }

    @Test(
        "An import with one over-long field in row N is refused naming line N and the column, and raw SQL refuses the value too",
        arguments: limited)
    func importNamesTheLineAndColumn(_ limited: Limited) async throws {
        try await TestDatabase.withFreshDatabase { db in
            let unitID = try await db.query(PostgresQuery(unsafeSQL: Self.unitRow)).first!.decode(Int.self)
            let over = String(repeating: "稀", count: limited.range.upperBound + 1)
            var cells = [
                "所在市州": "兰州市", "企业名称": "兰州某新材料有限公司", "统一社会信用代码": "91330100799655058B", "企业性质": "民营",
                "所属重点产业链": "有色冶金", "技术需求": "稀土永磁材料高温稳定性提升", "支持条件": "场地", "联系人": "张工",
                "联系电话": "0931-8888888", "电子邮箱": "a@b.cn", "备注": "",
            ]
            let headers = DemandImportTests.header.split(separator: ",").map(String.init)
            let good = headers.map { cells[$0]! }.joined(separator: ",")
            cells[limited.header] = over
            let bad = headers.map { cells[$0]! }.joined(separator: ",")
            // Lines: 1 the header, 2 to 4 good rows, 5 the bad one, 6 a good one.
            let text = ([DemandImportTests.header, good, good, good, bad, good]).joined(separator: "\r\n")
            guard case .failure(let failure) = DemandImport.parse(text) else {
                Issue.record("a row past the limit of \(limited.header) was accepted")
                return
            }
            #expect(failure.errors.map(\.line) == [5])
            #expect(failure.errors.map(\.column) == [limited.header])
            #expect(failure.errors.first?.message.contains("\(limited.range.upperBound)") == true)

            let refused = await #expect(throws: PostgresError.self) {
                try await Self.rawInsert(limited.column, over, unitID: unitID, on: db)
            }
            #expect(refused?.constraint == limited.constraint)
            #expect(try await db.query("SELECT count(*) FROM demands").first!.decode(Int.self) == 0)
        }
    }
}

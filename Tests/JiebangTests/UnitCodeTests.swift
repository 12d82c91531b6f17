import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Credit codes and region codes")
struct UnitCodeTests {
    @Test(
        "Real unified social credit codes pass their check",
        arguments: [
            "91330100799655058B", "91440300708461136T", "91110000802100433B", "91350100M000100Y43",
        ])
    func validCodes(code: String) throws {
        #expect(try CreditCode(code).value == code)
        #expect(try CreditCode(code.lowercased() + " ").value == code)
    }

    @Test("A mistyped code is refused with the reason")
    func invalidCodes() {
        #expect(throws: CreditCode.Problem.wrongCheckCharacter(found: "C", expected: "B")) { try CreditCode("91330100799655058C") }
        #expect(throws: CreditCode.Problem.wrongLength(17)) { try CreditCode("9133010079965505B") }
        #expect(throws: CreditCode.Problem.invalidCharacter("I", position: 9)) { try CreditCode("91330100I99655058B") }
        let problem = CreditCode.Problem.wrongCheckCharacter(found: "C", expected: "B")
        #expect(problem.description.contains("check character"))
    }

    @Test("Region codes name a city or prefecture")
    func regionCodes() throws {
        #expect(try RegionCode("620100").province == "620000")
        #expect(throws: RegionCode.Problem.notPrefectureLevel) { try RegionCode("620000") }
        #expect(throws: RegionCode.Problem.notPrefectureLevel) { try RegionCode("620102") }
        #expect(throws: RegionCode.Problem.unknownProvince("99")) { try RegionCode("990100") }
        #expect(throws: RegionCode.Problem.notSixDigits) { try RegionCode("62010") }
    }

    @Test("The database checks credit codes with the same rule as Swift")
    func databaseAgrees() async throws {
        try await TestDatabase.withFreshDatabase { db in
            var generator = SystemRandomNumberGenerator()
            let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
            var codes: [String] = []
            for _ in 0..<300 {
                codes.append(String((0..<18).map { _ in alphabet[Int.random(in: 0..<31, using: &generator)] }))
            }
            codes += ["91330100799655058B", "91440300708461136T", "91330100799655058C", "9133010079965505B", "91330100I99655058B"]
            let verdicts = try await db.query("SELECT credit_code_is_valid(c) FROM unnest(\(codes)) AS c").decode(Bool.self)
            for (code, verdict) in zip(codes, verdicts) {
                #expect(verdict == ((try? CreditCode(code)) != nil), "\(code)")
            }
            #expect(verdicts.contains(true))
        }
    }

    @Test("Raw SQL cannot store a unit with a bad code, region, nature or a taken code")
    func databaseRefusesBadUnits() async throws {
        try await TestDatabase.withFreshDatabase { db in
            func insert(
                code: String = "91330100799655058B", region: String = "620100", kind: String = "enterprise",
                natures: [String] = ["private", "srdi"], verified: Bool = true
            ) -> PostgresQuery {
                """
                INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email,
                                   verification, decided_at)
                VALUES (\(kind)::unit_kind, '兰州稀土新材料有限公司', \(code), \(region), \(natures), '张工', '0931-8888888', 'zhang@example.cn',
                        \(verified ? "verified" : "pending"), CASE WHEN \(verified) THEN now() END)
                """
            }
            try await db.execute(insert())
            // A pending claim of a held code is stored (the bureau settles it); a second verified holder is not.
            try await db.execute(insert(verified: false))
            let cases: [(PostgresQuery, String)] = [
                (insert(), "units_verified_credit_code"),
                (insert(code: "91440300708461136X"), "units_credit_code_valid"),
                (insert(code: "91440300708461136T", region: "620000"), "units_region_code_prefecture"),
                (insert(code: "91440300708461136T", natures: ["private", "private"]), "units_natures_known"),
                (insert(code: "91440300708461136T", natures: ["listed"]), "units_natures_known"),
                (insert(code: "91440300708461136T", kind: "university"), "units_natures_enterprise"),
            ]
            for (statement, constraint) in cases {
                await #expect {
                    try await db.execute(statement)
                } throws: { ($0 as? PostgresError)?.constraint == constraint }
            }
        }
    }

    @Test("The audit log refuses UPDATE, DELETE and TRUNCATE")
    func auditLogIsAppendOnly() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await db.execute(
                "INSERT INTO audit_log (actor_label, action, entity, entity_id, after) VALUES ('system', 'unit.create', 'unit', '1', '{}')")
            for statement: PostgresQuery in [
                "UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
            ] {
                await #expect {
                    try await db.execute(statement)
                } throws: { ($0 as? PostgresError)?.constraint == "audit_log_append_only" }
            }
            let rows = try await db.query("SELECT count(*) FROM audit_log").first!.decode(Int.self)
            #expect(rows == 1)
        }
    }
}

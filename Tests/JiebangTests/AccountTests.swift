import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Accounts, roles and tokens")
struct AccountTests {
    let hasher = PasswordHasher.fastForTests

    @Test("A password hash verifies the password and nothing else, and never repeats")
    func passwordHashing() throws {
        let first = try hasher.hash("稀土永磁-2025")
        let second = try hasher.hash("稀土永磁-2025")
        #expect(first != second)
        #expect(first.hasPrefix("scrypt$10$8$1$"))
        #expect(hasher.verify("稀土永磁-2025", against: first))
        #expect(!hasher.verify("稀土永磁-2026", against: first))
        #expect(!hasher.verify("稀土永磁-2025", against: "scrypt$10$8$1$bad"))
        #expect(throws: PasswordHasher.Problem.tooShort(minimum: 10)) { try hasher.validate("short") }
    }

    /// Makes a unit, a provincial and a municipal bureau; returns their ids.
    func organisations(_ db: PostgresClient) async throws -> (unit: Int, province: Int, city: Int) {
        try await db.withConnection { db in
            let unit = try await db.query(
                """
                INSERT INTO units (kind, name, credit_code, region_code, contact_name, contact_phone, contact_email)
                VALUES ('university', '兰州大学', '12620000438000431B', '620100', '李老师', '0931-8912345', 'li@lzu.edu.cn')
                RETURNING id
                """
            ).first!.decode(Int.self)
            let province = try await AccountStore.createBureau(name: "甘肃省工业和信息化厅", level: "province", regionCode: "620000", on: db)
            let city = try await AccountStore.createBureau(name: "兰州市工业和信息化局", level: "municipal", regionCode: "620100", on: db)
            return (unit, province, city)
        }
    }

    @Test("Each role is held in its own scope, checked in Swift and in the database")
    func roleScopes() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (unit, province, city) = try await organisations(db)
            func create(_ user: AccountStore.NewUser) async throws -> Int {
                try await db.withTransaction { try await AccountStore.createUser(user, passwordHash: nil, by: "test", on: $0) }
            }
            _ = try await create(.init(login: "Pub@GS.gov.cn", displayName: "王处长", role: .provincialPublisher, bureauID: province))
            _ = try await create(.init(login: "rec@lz.gov.cn", displayName: "赵科长", role: .municipalRecommender, bureauID: city))
            _ = try await create(.init(login: "admin@lzu.edu.cn", displayName: "李老师", role: .unitAdmin, unitID: unit))
            await #expect(throws: AccountError.loginTaken("pub@gs.gov.cn")) {
                try await create(.init(login: "pub@gs.gov.cn", displayName: "x", role: .expert))
            }
            await #expect(throws: AccountError.invalidScope(.unitMember)) {
                try await create(.init(login: "m@x.cn", displayName: "x", role: .unitMember))
            }
            await #expect(throws: AccountError.wrongBureauLevel(.provincialPublisher)) {
                try await create(.init(login: "p2@x.cn", displayName: "x", role: .provincialPublisher, bureauID: city))
            }
            await #expect(throws: AccountError.wrongBureauLevel(.municipalRecommender)) {
                try await create(.init(login: "r2@x.cn", displayName: "x", role: .municipalRecommender, bureauID: province))
            }
            await #expect(throws: AccountError.unknownOrganisation) {
                try await create(.init(login: "m2@x.cn", displayName: "x", role: .unitMember, unitID: 9999))
            }
            // Raw SQL cannot move a recommender to a provincial bureau either.
            await #expect {
                try await db.execute("UPDATE users SET bureau_id = \(province) WHERE login = 'rec@lz.gov.cn'")
            } throws: { ($0 as? PostgresError)?.constraint == "users_bureau_level" }
            let audited = try await db.query("SELECT count(*) FROM audit_log WHERE action = 'user.create'").first!.decode(Int.self)
            #expect(audited == 3)
        }
    }

    @Test("Signing in issues a token that authenticates until it is revoked or expires")
    func tokens() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (_, _, city) = try await organisations(db)
            let hash = try hasher.hash("correct horse battery")
            _ = try await db.withTransaction {
                try await AccountStore.createUser(
                    .init(login: "rec@lz.gov.cn", displayName: "赵科长", role: .municipalRecommender, bureauID: city),
                    passwordHash: hash, by: "test", on: $0)
            }
            try await db.withConnection { conn in
                await #expect(throws: AccountError.invalidCredentials) {
                    try await AccountStore.signIn(login: "rec@lz.gov.cn", password: "wrong password!", hasher: hasher, on: conn)
                }
                await #expect(throws: AccountError.invalidCredentials) {
                    try await AccountStore.signIn(login: "nobody@lz.gov.cn", password: "correct horse battery", hasher: hasher, on: conn)
                }
                let (token, expiresAt) = try await AccountStore.signIn(
                    login: " REC@lz.gov.cn", password: "correct horse battery", hasher: hasher, on: conn)
                #expect(expiresAt > Date())
                #expect(token.value.hasPrefix("jb_") && token.value.count == 46)
                #expect(!"\(token)".contains(token.value.dropFirst(3)))
                let actor = try #require(try await AccountStore.authenticate(token, on: conn))
                #expect(actor.role == .municipalRecommender)
                #expect(actor.regionCode == "620100")
                #expect(try await AccountStore.authenticate(AccessToken.generate(), on: conn) == nil)
                #expect(try await AccountStore.revoke(token, on: conn))
                #expect(try await AccountStore.authenticate(token, on: conn) == nil)
                let stored = try await conn.query("SELECT count(*) FROM access_tokens WHERE token_hash = \(Data(token.value.utf8))")
                    .first!.decode(Int.self)
                #expect(stored == 0)
                // An expired token no longer authenticates.
                let (short, _) = try await AccountStore.issueToken(userID: actor.userID, kind: "api", label: "ci", lifetime: .seconds(60), on: conn)
                try await conn.execute("UPDATE access_tokens SET created_at = now() - interval '2 minutes', expires_at = now() - interval '1 second' WHERE token_hash = \(short.digest)")
                #expect(try await AccountStore.authenticate(short, on: conn) == nil)
            }
        }
    }

    @Test("A request's token is stamped, and the stamp's lazy commit does not outlive its own transaction nor reach a caller's")
    func lazyStamp() async throws {
        try await TestDatabase.withFreshDatabase(maximumConnections: 1) { db in
            let (_, _, city) = try await organisations(db)
            let hash = try hasher.hash("correct horse battery")
            let user = try await db.withTransaction {
                try await AccountStore.createUser(
                    .init(login: "rec@lz.gov.cn", displayName: "赵科长", role: .municipalRecommender, bureauID: city),
                    passwordHash: hash, by: "test", on: $0)
            }
            try await db.withConnection { conn in
                // The test cluster is not durable; this session is, as a server's would be.
                try await conn.execute("SET synchronous_commit = on")
                let (token, _) = try await AccountStore.issueToken(
                    userID: user, kind: "api", label: "ci", lifetime: .seconds(3600), on: conn)
                let actor = try #require(try await AccountStore.authenticate(token, on: conn, lazyStamp: true))
                #expect(actor.userID == user)
                let stamped = try await conn.query(
                    "SELECT last_used_at IS NOT NULL FROM access_tokens WHERE token_hash = \(token.digest)"
                ).first!.decode(Bool.self)
                #expect(stamped)
                // The setting was local to the stamp's own transaction.
                #expect(try await conn.query("SHOW synchronous_commit").first!.decode(String.self) == "on")
                // Inside a caller's transaction (sign-in), the default keeps the caller's commit durable.
                let inside = try await conn.withTransaction { tx in
                    _ = try await AccountStore.authenticate(token, on: tx)
                    try await tx.execute("UPDATE access_tokens SET last_used_at = NULL WHERE token_hash = \(token.digest)")
                    _ = try await AccountStore.authenticate(token, on: tx)
                    return try await tx.query("SHOW synchronous_commit").first!.decode(String.self)
                }
                #expect(inside == "on")
            }
        }
    }
}

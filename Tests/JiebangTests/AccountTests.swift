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
        #expect(throws: PasswordHasher.Problem.tooShort(minimum: 12)) { try hasher.validate("eleven-char") }
        try hasher.validate("twelve-chars")
    }

    @Test("A password that is or contains the user's login, name, phone or e-mail is refused, whatever its case")
    func personalDetailsRefused() throws {
        let personal: [String?] = ["Wang.Qiang", "王强", "wq@example.cn", "0931-8912345", nil, "x"]
        for password in [
            "wang.qiang", "my WANG.QIANG password", "王强的密码很长很长很长", "wq@example.cn-2025", "wq@example.cn",
            "prefix-09318912345-suffix",
        ] {
            #expect(throws: PasswordHasher.Problem.containsPersonalDetail) {
                try hasher.validate(password + "-padding-long", personal: personal)
            }
        }
        // A one-letter detail, or none at all, refuses nothing; an unrelated long password passes.
        try hasher.validate("a strong unrelated phrase", personal: personal)
        try hasher.validate("a strong unrelated phrase")
        // The e-mail's local part alone is a detail too.
        #expect(throws: PasswordHasher.Problem.containsPersonalDetail) {
            try hasher.validate("correct WQiang horse", personal: ["wqiang@example.cn"])
        }
    }

    /// Makes a unit, a provincial and a municipal bureau; returns their ids.
    func organisations(_ db: PostgresClient) async throws -> (unit: Int, province: Int, city: Int) {
        try await db.withConnection { db in
            let unit = try await db.query(
                """
                INSERT INTO units (kind, name, credit_code, region_code, contact_name, contact_phone, contact_email, verification, decided_at)
                VALUES ('university', '兰州大学', '12620000438000431B', '620100', '李老师', '0931-8912345', 'li@lzu.edu.cn', 'verified', now())
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
            let passwords = PasswordHashingPool(hasher: hasher)
            defer { passwords.shutdown() }
            let signIn = PasswordSignIn(database: db, passwords: passwords)
            await #expect(throws: AccountError.invalidCredentials) {
                try await signIn.signIn(login: "rec@lz.gov.cn", password: "wrong password!")
            }
            await #expect(throws: AccountError.invalidCredentials) {
                try await signIn.signIn(login: "nobody@lz.gov.cn", password: "correct horse battery")
            }
            let session = try await signIn.signIn(login: " REC@lz.gov.cn", password: "correct horse battery")
            #expect(session.user.login == "rec@lz.gov.cn")
            try await db.withConnection { conn in
                let (token, expiresAt) = (session.token, session.expiresAt)
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
                let (short, _) = try await AccountStore.issueToken(
                    userID: actor.userID, kind: "api", label: "ci", lifetime: .seconds(60), on: conn)
                try await conn.execute(
                    "UPDATE access_tokens SET created_at = now() - interval '2 minutes', expires_at = now() - interval '1 second' WHERE token_hash = \(short.digest)"
                )
                #expect(try await AccountStore.authenticate(short, on: conn) == nil)
            }
        }
    }

    @Test("Identifying a token writes nothing and says whether its stamp is due; stamps are written in batches and never move back")
    func deferredStamps() async throws {
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
                let stamp = {
                    try await conn.query(
                        "SELECT extract(epoch FROM last_used_at)::float8 FROM access_tokens WHERE token_hash = \(token.digest)"
                    ).first!.decode(Double?.self)
                }
                let first = try #require(try await AccountStore.identify(token, on: conn))
                #expect(first.actor.userID == user)
                #expect(first.actor.role == .municipalRecommender)
                #expect(first.stampDue)
                #expect(try await stamp() == nil)

                let used = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
                #expect(try await AccountStore.stampUses([first.tokenID: used, 987_654_321: used], on: conn) == 1)
                #expect(try await stamp() == used.timeIntervalSince1970)
                #expect(try await AccountStore.identify(token, on: conn)?.stampDue == false)
                // An older use (a batch that was late) does not move the stamp back.
                #expect(try await AccountStore.stampUses([first.tokenID: used - 30], on: conn) == 0)
                #expect(try await stamp() == used.timeIntervalSince1970)
                // The batch's lazy commit was local to its own transaction.
                #expect(try await conn.query("SHOW synchronous_commit").first!.decode(String.self) == "on")

                // A revoked token is not identified.
                try await AccountStore.revoke(token, on: conn)
                #expect(try await AccountStore.identify(token, on: conn) == nil)

                // A session token (signing in) is stamped when it is issued; reading it leaves a transaction durable.
                let (fresh, _) = try await AccountStore.issueToken(
                    userID: user, kind: "session", label: nil, lifetime: .seconds(3600), on: conn)
                let inside = try await conn.withTransaction { tx in
                    _ = try #require(try await AccountStore.authenticate(fresh, on: tx))
                    return try await tx.query(
                        "SELECT last_used_at IS NOT NULL, current_setting('synchronous_commit') FROM access_tokens WHERE token_hash = \(fresh.digest)"
                    ).first!.decode((Bool, String).self)
                }
                #expect(inside == (true, "on"))
            }
        }
    }
}

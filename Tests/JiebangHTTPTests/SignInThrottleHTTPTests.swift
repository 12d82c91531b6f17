import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Logging
import Postgres
import Testing

@testable import JiebangHTTP

@Suite("Sign-in throttling")
struct SignInThrottleHTTPTests {
    static func credentials(_ login: String, _ password: String) -> [String: Any] {
        ["login": login, "password": password]
    }

    /// The application with the standard rules but a first wait of a minute, so that no wait ends by itself
    /// while the test runs on a loaded machine.
    static func application(_ db: PostgresClient) -> some ApplicationProtocol {
        var rules = SignInThrottle.Rules.standard
        rules.login.baseDelay = .seconds(60)
        var configuration = HTTPConfiguration()
        configuration.signInThrottles = rules
        return buildApplication(configuration: configuration, database: db, passwordHasher: .fastForTests, logger: Logger(label: "test"))
    }

    @Test("An existing and an unknown login get the same answers: five 401s, then 429 with Retry-After and no password check")
    func sameAnswerWhetherOrNotTheAccountExists() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await Self.application(db).test(.router) { client in
                var transcripts: [[String]] = []
                for login in ["publisher", "no.such.person"] {
                    var transcript: [String] = []
                    for _ in 0..<7 {
                        let reply = try await client.call(.post, "/v1/sessions", json: Self.credentials(login, "not the password!"))
                        transcript.append("\(reply.status.code) \(reply.headers[.retryAfter] ?? "-") \(reply.object["detail"] ?? "")")
                        if reply.status == .tooManyRequests {
                            #expect(reply.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                            #expect(reply.problemFields == [])
                        }
                    }
                    transcripts.append(transcript)
                }
                // The same answers, the seconds left aside (a loaded machine may take one between the two logins).
                let withoutSeconds = transcripts.map { $0.map { $0.filter { !$0.isNumber } + $0.prefix(3) } }
                #expect(withoutSeconds[0] == withoutSeconds[1], "\(transcripts)")
                let statuses = transcripts[0].map { $0.prefix(3) }
                #expect(statuses == ["401", "401", "401", "401", "401", "429", "429"], "\(transcripts[0])")
                let wait = Int(transcripts[0][5].split(separator: " ")[1]) ?? 0
                #expect((50...60).contains(wait), "\(transcripts[0][5])")
                #expect(transcripts[0][5].contains("too many sign-in attempts"))
                // Even the right password waits while the login is blocked.
                let blocked = try await client.call(.post, "/v1/sessions", json: Self.credentials("publisher", "correct horse battery"))
                #expect(blocked.status == .tooManyRequests)
                // After the wait (its end moved into the past) the right password signs in, and the count starts again.
                try await db.execute("UPDATE sign_in_throttle SET blocked_until = now() - interval '1 second'")
                let signedIn = try await client.call(.post, "/v1/sessions", json: Self.credentials("publisher", "correct horse battery"))
                #expect(signedIn.status == .created)
                for _ in 0..<4 {
                    let reply = try await client.call(.post, "/v1/sessions", json: Self.credentials("publisher", "not the password!"))
                    #expect(reply.status == .unauthorized)
                }
                let stored = try await db.query("SELECT count(*) FROM sign_in_throttle WHERE key LIKE 'login:%'").first!.decode(Int.self)
                #expect(stored == 2)
                let typed = try await db.query("SELECT count(*) FROM sign_in_throttle WHERE key LIKE '%no.such%'").first!.decode(Int.self)
                #expect(typed == 0, "the login's text is not stored")
            }
        }
    }

    @Test("Twenty wrong passwords for one login at once: the attempts queue on the row, so exactly five are checked")
    func concurrentAttemptsCannotSlipPast() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await APIFixture.make(db)
            try await Self.application(db).test(.router) { client in
                let statuses = try await withThrowingTaskGroup(of: UInt16.self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            UInt16(
                                try await client.call(.post, "/v1/sessions", json: Self.credentials("expert", "not the password!")).status
                                    .code)
                        }
                    }
                    return try await group.reduce(into: [UInt16]()) { $0.append($1) }
                }
                #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 }, "\(statuses)")
                #expect(statuses.filter { $0 == 401 }.count == 5, "\(statuses)")
            }
        }
    }

    @Test(
        "Changing a password checks the current one (throttled as a sign-in), holds the new one to the policy, revokes every session and API token and issues a new session"
    )
    func passwordChange() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await Self.application(db).test(.router) { client in
                func signIn(_ password: String) async throws -> Reply {
                    try await client.call(.post, "/v1/sessions", json: ["login": "publisher", "password": password])
                }
                let first = try #require(try await signIn("correct horse battery").object["token"] as? String)
                let second = try #require(try await signIn("correct horse battery").object["token"] as? String)
                let bearer: HTTPFields = [.authorization: "Bearer \(first)"]
                let wrong = try await client.call(
                    .put, "/v1/me/password", json: ["currentPassword": "not it at all", "newPassword": "a brand new phrase"],
                    headers: bearer)
                #expect(wrong.status == .unprocessableContent)
                #expect(wrong.problemFields == ["currentPassword"])
                let weak = try await client.call(
                    .put, "/v1/me/password", json: ["currentPassword": "correct horse battery", "newPassword": "my publisher pw"],
                    headers: bearer)
                #expect(weak.status == .unprocessableContent)
                #expect(weak.problemFields == ["newPassword"])
                let changed = try await client.call(
                    .put, "/v1/me/password", json: ["currentPassword": "correct horse battery", "newPassword": "a brand new phrase"],
                    headers: bearer)
                #expect(changed.status == .ok)
                let fresh = try #require(changed.object["token"] as? String)
                for token in [first, second] {
                    #expect(try await client.call(.get, "/v1/me", headers: [.authorization: "Bearer \(token)"]).status == .unauthorized)
                }
                #expect(try await client.call(.get, "/v1/me", headers: [.authorization: "Bearer \(fresh)"]).status == .ok)
                #expect(
                    try await client.call(.get, "/v1/me", as: "publisher", fixture: fixture).status == .unauthorized,
                    "the API token is revoked too")
                #expect(try await signIn("correct horse battery").status == .unauthorized)
                #expect(try await signIn("a brand new phrase").status == .created)
                // Guessing the current password through this route counts as sign-in attempts do.
                var statuses: [UInt16] = []
                for _ in 0..<6 {
                    statuses.append(
                        UInt16(
                            try await client.call(
                                .put, "/v1/me/password", json: ["currentPassword": "a guess!", "newPassword": "a brand new phrase 2"],
                                headers: [.authorization: "Bearer \(fresh)"]
                            ).status.code))
                }
                #expect(statuses == [422, 422, 422, 422, 422, 429], "\(statuses)")
            }
        }
    }

    @Test(
        "Behind a trusted proxy the client's address is X-Forwarded-For's rightmost untrusted entry; from anyone else the header is ignored"
    )
    func forwardedFor() async throws {
        func proxies(_ entries: [String]) throws -> TrustedProxies { try TrustedProxies.parse(entries).get() }
        #expect(
            ClientAddressMiddleware.client(forwardedFor: "1.2.3.4, 10.0.0.9, 10.0.0.1", trusted: try proxies(["10.0.0.1"])) == "10.0.0.9")
        #expect(ClientAddressMiddleware.client(forwardedFor: "spoofed, 203.0.113.7", trusted: try proxies([])) == "203.0.113.7")
        #expect(ClientAddressMiddleware.client(forwardedFor: "2001:db8::1", trusted: try proxies([])) == "2001:db8::1")
        #expect(ClientAddressMiddleware.client(forwardedFor: "not an address", trusted: try proxies([])) == nil)
        #expect(ClientAddressMiddleware.client(forwardedFor: "10.0.0.1", trusted: try proxies(["10.0.0.1"])) == nil)
        // Networks: an ingress controller's pods anywhere in 10.0.0.0/8 are proxies; the client is the address before them.
        let network = try proxies(["10.0.0.0/8", "fd00::/8"])
        #expect(ClientAddressMiddleware.client(forwardedFor: "203.0.113.7, 10.1.2.3, 10.200.0.9", trusted: network) == "203.0.113.7")
        #expect(ClientAddressMiddleware.client(forwardedFor: "11.0.0.1", trusted: network) == "11.0.0.1")
        #expect(network.contains("fd12:3456::1") && !network.contains("fe80::1") && !network.contains("9.255.255.255"))
        #expect(try proxies(["192.168.1.0/25"]).contains("192.168.1.127") && !(try proxies(["192.168.1.0/25"]).contains("192.168.1.128")))
        #expect(try proxies(["0.0.0.0/0"]).contains("8.8.8.8"))
        // C reads "10.0.0.1\0junk" only up to the NUL: without its own check the entry would pass as 10.0.0.1.
        #expect(TrustedProxies.address("10.0.0.1\u{0}junk") == nil && !network.contains("10.0.0.1\u{0}junk"))
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "proxy.example.cn", "::1/129", "10.0.0.0/+8", "10.0.0.1\u{0}"] {
            #expect(HTTPConfiguration.invalidTrustedProxy([bad]) == bad, "\(bad)")
        }
        #expect(HTTPConfiguration.invalidTrustedProxy(["127.0.0.1", "10.0.0.0/8", "::1"]) == nil)
        for (trusted, expected) in [(Set(["127.0.0.1"]), "address:203.0.113.7"), (Set(["10.0.0.1"]), "address:127.0.0.1")] {
            try await TestDatabase.withFreshDatabase { db in
                var configuration = HTTPConfiguration(port: 0)
                configuration.trustedProxies = trusted
                let app = buildApplication(
                    configuration: configuration, database: db, passwordHasher: .fastForTests, logger: Logger(label: "test"))
                try await app.test(.live) { client in
                    let reply = try await client.call(
                        .post, "/v1/sessions", json: Self.credentials("nobody", "not the password!"),
                        headers: [ClientAddressMiddleware.header: "198.51.100.1, 203.0.113.7"])
                    #expect(reply.status == .unauthorized)
                    let keys = try await db.query("SELECT key FROM sign_in_throttle WHERE key LIKE 'address:%'").map {
                        try $0.decode(String.self)
                    }
                    #expect(keys == [expected], "trusting \(trusted)")
                }
            }
        }
    }

    @Test("One address trying many logins is throttled after fifty in a row, over a real socket")
    func perAddress() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            var configuration = HTTPConfiguration(port: 0)
            configuration.idleTimeout = .seconds(30)
            let app = buildApplication(
                configuration: configuration, database: fixture.db, passwordHasher: .fastForTests, logger: Logger(label: "test"))
            try await app.test(.live) { client in
                var statuses: [UInt16] = []
                for index in 0..<52 {
                    let reply = try await client.call(.post, "/v1/sessions", json: Self.credentials("guess\(index)", "not the password!"))
                    statuses.append(UInt16(reply.status.code))
                }
                #expect(statuses.prefix(50).allSatisfy { $0 == 401 }, "\(statuses)")
                #expect(statuses.suffix(2) == [429, 429], "\(statuses)")
                let address = try await db.query(
                    "SELECT key, attempts FROM sign_in_throttle WHERE key LIKE 'address:%'"
                ).first!.decode((String, Int).self)
                #expect(address == ("address:127.0.0.1", 50))
            }
        }
    }

    @Test(
        "Units registered by strangers from one address: ten go through, the next gets 429 with Retry-After and registers nothing; failed ones and a system admin's count nothing"
    )
    func registrationsPerAddress() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let app = buildApplication(
                configuration: HTTPConfiguration(port: 0), database: fixture.db, passwordHasher: .fastForTests,
                logger: Logger(label: "test"))
            try await app.test(.live) { client in
                @Sendable func registration(_ serial: Int) throws -> [String: Any] {
                    let code = try CreditCode.completing("91620100MB" + String(format: "%07d", serial)).value
                    return [
                        "unit": [
                            "kind": "enterprise", "name": "注册测试企业\(serial)", "creditCode": code, "regionCode": "620100",
                            "natures": ["private"], "contactName": "赵敏", "contactPhone": "0931-1234567", "contactEmail": "zhao@example.cn",
                        ]
                    ]
                }
                // A refused registration (no name) is rolled back with its count.
                var invalid = try registration(0)
                invalid["unit"] = (invalid["unit"] as! [String: Any]).merging(["name": ""]) { $1 }
                for _ in 0..<3 { #expect(try await client.call(.post, "/v1/units", json: invalid).status == .unprocessableContent) }
                var statuses: [UInt16] = []
                for serial in 1...12 {
                    statuses.append(UInt16(try await client.call(.post, "/v1/units", json: registration(serial)).status.code))
                }
                #expect(statuses == Array(repeating: 201, count: 10) + [429, 429], "\(statuses)")
                let refused = try await client.call(.post, "/v1/units", json: registration(13))
                #expect(refused.headers[.retryAfter].flatMap { Int($0) }.map { (50...60).contains($0) } == true, "\(refused.headers)")
                #expect(refused.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                #expect((refused.object["detail"] as? String)?.contains("too many units registered") == true)
                #expect(try await db.query("SELECT count(*) FROM units WHERE name LIKE '注册测试企业%'").first!.decode(Int.self) == 10)
                // A system admin registers on.
                let admin = try await client.call(.post, "/v1/units", as: "admin", fixture: fixture, json: registration(14))
                #expect(admin.status == .created)
                let count = try await db.query("SELECT attempts FROM sign_in_throttle WHERE key = 'register:127.0.0.1'").first!.decode(
                    Int.self)
                #expect(count == 10)
            }
        }
    }
}

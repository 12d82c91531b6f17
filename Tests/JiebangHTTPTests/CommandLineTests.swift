import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// Runs the built `jiebang` binary as a user would.
@Suite("The jiebang command")
struct CommandLineTests {
    /// The `jiebang` executable beside the test bundle in the build folder.
    static var binary: URL {
        var folder = Bundle.main.bundleURL
        while folder.path != "/" {
            let candidate = folder.appending(path: "jiebang")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            folder.deleteLastPathComponent()
        }
        return TestDatabase.packageRoot.appending(path: ".build/debug/jiebang")
    }

    static func run(_ arguments: [String], environment: [String: String], executable: String? = nil) throws
        -> (status: Int32, output: String)
    {
        let process = Process()
        process.executableURL = executable.map { URL(fileURLWithPath: $0) } ?? binary
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(
        "A bad DATABASE_URL gives a one-line error and a non-zero exit",
        arguments: [
            "postgresql://nobody@127.0.0.1:1/jiebang",
            "host=/nonexistent/folder port=5",
            "postgresql://[broken",
        ])
    func badDatabaseURL(url: String) throws {
        let (status, output) = try Self.run(["migrate"], environment: ["DATABASE_URL": url, "PATH": "/usr/bin:/bin"])
        #expect(status != 0)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(output.contains("cannot connect to PostgreSQL"))
    }

    @Test("cron lists the scans, runs one as of --at against a real database, and refuses an unknown scan or time")
    func cron() async throws {
        let server = try await TestDatabase.serverConnectionString()
        let listed = try Self.run(["cron"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(listed.status == 0)
        #expect(listed.output.contains("application-deadlines"))
        try await TestDatabase.withFreshDatabase { db in
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let environment = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin"]
            let ran = try Self.run(["cron", "application-deadlines", "--at", "2026-12-01T09:00:00+08:00"], environment: environment)
            #expect(ran.status == 0, "\(ran.output)")
            #expect(ran.output.contains("application-deadlines as of 2026-12-01T01:00:00Z: created 0, already sent 0, muted 0"))
            let unknown = try Self.run(["cron", "nothing"], environment: environment)
            #expect(unknown.status != 0)
            #expect(unknown.output.contains("there is no scan \"nothing\""))
            let badTime = try Self.run(["cron", "application-deadlines", "--at", "tomorrow"], environment: environment)
            #expect(badTime.status != 0)
            #expect(badTime.output.contains("--at"))
        }
    }

    @Test("The same scan run by two processes at once sends each reminder once")
    func cronTwoProcesses() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let (_, _, deadline) = try await NotificationTests.draftOnChallenge(db)
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let at = ISO8601DateFormatter().string(from: deadline - 3 * 86_400)
            let environment = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin"]
            let outputs = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
                for _ in 0..<2 {
                    group.addTask { try Self.run(["cron", "application-deadlines", "--at", at], environment: environment) }
                }
                return try await group.reduce(into: [(Int32, String)]()) { $0.append($1) }
            }
            #expect(outputs.map(\.0) == [0, 0], "\(outputs.map(\.1))")
            let created = outputs.map(\.1).filter { $0.contains("created 1,") }.count
            let skipped = outputs.map(\.1).filter { $0.contains("created 0, already sent 1") }.count
            #expect(created == 1 && skipped == 1, "\(outputs.map(\.1))")
            let count = try await db.query("SELECT count(*) FROM notifications WHERE occasion = 'application_deadline.t7'")
                .first?.decode(Int.self)
            #expect(count == 1)
        }
    }

    @Test(
        "work refuses a bad SMTP configuration with one line naming the variable, before touching a database",
        arguments: [
            ["SMTP_URL": "http://mail.example.com", "MAIL_FROM": "noreply@example.gov.cn"],
            ["SMTP_URL": "smtp://user:secret@mail.example.com", "MAIL_FROM": "noreply@example.gov.cn"],
            ["SMTP_URL": "smtps://mail.example.com"],
            ["SMTP_URL": "smtps://mail.example.com", "MAIL_FROM": "not an address"],
            ["SMTP_URL": "smtps://mail.example.com", "MAIL_FROM": "noreply@example.gov.cn", "SMTP_TIMEOUT": "0"],
        ])
    func badSMTPConfiguration(variables: [String: String]) throws {
        let (status, output) = try Self.run(
            ["work"], environment: variables.merging(["PATH": "/usr/bin:/bin", "DATABASE_URL": "host=/nonexistent dbname=x"]) { $1 })
        #expect(status != 0)
        #expect(output.split(separator: "\n").count == 1, "\(output)")
        #expect(output.contains("SMTP_") || output.contains("MAIL_FROM"), "\(output)")
        #expect(!output.contains("PostgreSQL"), "\(output)")
    }

    @Test(
        "work refuses a secrets key that is not base64 of 32 bytes, a missing key file, or both set, with one line naming the variable, before touching a database",
        arguments: [
            (["JIEBANG_SECRETS_KEY": "not a key"], "JIEBANG_SECRETS_KEY is not base64 text"),
            (["JIEBANG_SECRETS_KEY": Data(count: 16).base64EncodedString()], "JIEBANG_SECRETS_KEY must hold 32 bytes"),
            (
                ["JIEBANG_SECRETS_KEY_FILE": "/nonexistent/secrets.key"],
                "JIEBANG_SECRETS_KEY_FILE: /nonexistent/secrets.key is not a readable file"
            ),
            (
                ["JIEBANG_SECRETS_KEY": SecretsKeyring.Key.random(source: "").base64, "JIEBANG_SECRETS_KEY_FILE": "/tmp/x"],
                "are both set"
            ),
            (["JIEBANG_SECRETS_KEY_RETIRED": "not-a-key"], "JIEBANG_SECRETS_KEY_RETIRED is not base64 text"),
            (
                ["JIEBANG_SECRETS_KEY_RETIRED": SecretsKeyring.Key.random(source: "").base64 + ", " + Data(count: 8).base64EncodedString()],
                "JIEBANG_SECRETS_KEY_RETIRED, key 2 must hold 32 bytes"
            ),
            (["JIEBANG_SECRETS_KEY_RETIRED": " , "], "JIEBANG_SECRETS_KEY_RETIRED holds no key"),
            (
                ["JIEBANG_SECRETS_KEY_RETIRED_FILE": "/nonexistent/retired.keys"],
                "JIEBANG_SECRETS_KEY_RETIRED_FILE: /nonexistent/retired.keys is not a readable file"
            ),
            (
                [
                    "JIEBANG_SECRETS_KEY_RETIRED": SecretsKeyring.Key.random(source: "").base64,
                    "JIEBANG_SECRETS_KEY_RETIRED_FILE": "/tmp/x",
                ],
                "JIEBANG_SECRETS_KEY_RETIRED and JIEBANG_SECRETS_KEY_RETIRED_FILE are both set"
            ),
        ])
    func badSecretsKey(variables: [String: String], message: String) throws {
        let (status, output) = try Self.run(
            ["work"], environment: variables.merging(["PATH": "/usr/bin:/bin", "DATABASE_URL": "host=/nonexistent dbname=x"]) { $1 })
        #expect(status != 0)
        #expect(output.split(separator: "\n").count == 1, "\(output)")
        #expect(output.contains(message), "\(output)")
        #expect(!output.contains("PostgreSQL"), "\(output)")
    }

    @Test("work with the wrong secrets key for the stored webhook secrets stops with one line naming the endpoint and both keys")
    func wrongSecretsKey() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let (right, wrong) = (SecretsKeyring(current: .random(source: "")), SecretsKeyring.Key.random(source: ""))
            let endpoint = try await db.query(
                """
                INSERT INTO webhook_endpoints (unit_id, url, secret, created_by)
                SELECT \(fixture.unitA), 'https://example.cn/hook', \(try right.seal(WebhookSignature.newSecret())), id
                FROM users WHERE login = 'admina' RETURNING id
                """
            ).first!.decode(Int.self)
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let (status, output) = try Self.run(
                ["work"],
                environment: ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "JIEBANG_SECRETS_KEY": wrong.base64])
            #expect(status != 0)
            #expect(output.split(separator: "\n").count == 1, "\(output)")
            #expect(
                output.contains(
                    "webhook endpoint \(endpoint): the stored secret was sealed under key \(right.current.id), but the key configured is \(wrong.id) (from JIEBANG_SECRETS_KEY)"
                ), "\(output)")
        }
    }

    @Test(
        "A change of secrets key: work started with the new key and the old one in JIEBANG_SECRETS_KEY_RETIRED seals every webhook secret under the new key, unchanged; the old key alone then stops the start naming the new one"
    )
    func secretsKeyChange() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let (old, new) = (SecretsKeyring(current: .random(source: "")), SecretsKeyring(current: .random(source: "")))
            let (secret, previous) = (WebhookSignature.newSecret(), WebhookSignature.newSecret())
            let endpoint = try await db.query(
                """
                INSERT INTO webhook_endpoints (unit_id, url, secret, previous_secret, previous_secret_expires_at, created_by)
                SELECT \(fixture.unitA), 'https://example.cn/hook', \(try old.seal(secret)), \(try old.seal(previous)),
                       now() + interval '1 hour', id
                FROM users WHERE login = 'admina' RETURNING id
                """
            ).first!.decode(Int.self)
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let base = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin"]
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = ["work"]
            // The retired key among others, as an operator keeps the last few.
            let retired = [SecretsKeyring.Key.random(source: "").base64, old.current.base64].joined(separator: ",\n")
            process.environment = base.merging(["JIEBANG_SECRETS_KEY": new.current.base64, "JIEBANG_SECRETS_KEY_RETIRED": retired]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            var stored: (String, String?) = ("", nil)
            for _ in 0..<300 {
                stored = try await db.query("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = \(endpoint)").first!.decode(
                    (String, String?).self)
                if stored.0.hasPrefix(new.currentPrefix), stored.1?.hasPrefix(new.currentPrefix) == true { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            process.terminate()
            process.waitUntilExit()
            #expect(stored.0.hasPrefix(new.currentPrefix) && stored.1?.hasPrefix(new.currentPrefix) == true, "\(stored)")
            #expect(try new.open(stored.0) == secret)
            #expect(try stored.1.map { try new.open($0) } == previous)
            #expect(throws: SecretsKeyError.self) { try old.open(stored.0) }

            let (status, output) = try Self.run(["work"], environment: base.merging(["JIEBANG_SECRETS_KEY": old.current.base64]) { $1 })
            #expect(status != 0)
            #expect(output.split(separator: "\n").count == 1, "\(output)")
            #expect(output.contains("sealed under key \(new.current.id), but the key configured is \(old.current.id)"), "\(output)")
            #expect(output.contains("JIEBANG_SECRETS_KEY_RETIRED"), "\(output)")
        }
    }

    @Test("A poller other than epoll or poll is a one-line error naming JIEBANG_POSTGRES_POLLER, before any connection")
    func badPoller() throws {
        let (status, output) = try Self.run(
            ["migrate", "--status"],
            environment: ["JIEBANG_POSTGRES_POLLER": "kqueue", "PATH": "/usr/bin:/bin", "DATABASE_URL": "host=/nonexistent dbname=x"])
        #expect(status != 0)
        #expect(output.split(separator: "\n").count == 1, "\(output)")
        #expect(output.contains("JIEBANG_POSTGRES_POLLER: kqueue is not a poller (epoll or poll)"), "\(output)")
    }

    @Test("audit seal links the log into the chain and audit verify holds; after a superuser's edit it exits 1 naming the entry")
    func auditVerify() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let environment = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin"]
            for index in 0..<3 {
                try await db.withTransaction {
                    try await AuditLog.append(actor: "测试", action: "test.change", entity: "thing", entityID: "\(index)", on: $0)
                }
            }
            let (sealStatus, sealed) = try Self.run(["audit", "seal"], environment: environment)
            #expect(sealStatus == 0)
            #expect(sealed.contains("sealed 3 entries; audit chain head 3:"), "\(sealed)")
            let (status, output) = try Self.run(["audit", "verify"], environment: environment)
            #expect(status == 0)
            #expect(output.contains("audit chain holds"), "\(output)")
            let edited = try await db.query("SELECT id FROM audit_log ORDER BY id OFFSET 1 LIMIT 1").first!.decode(Int.self)
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL session_replication_role = replica")
                try await tx.execute("UPDATE audit_log SET actor_label = '改写者' WHERE id = \(edited)")
            }
            let (brokenStatus, broken) = try Self.run(["audit", "verify"], environment: environment)
            #expect(brokenStatus == 1)
            #expect(broken.contains("audit chain broken: audit entry \(edited) (seal 2) was edited"), "\(broken)")
        }
    }

    @Test("migrate --status lists the embedded migrations against a real database")
    func migrateStatus() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let (status, output) = try Self.run(
                ["migrate", "--status"], environment: ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin"])
            #expect(status == 0)
            #expect(output.contains("0001     applied"))
            #expect(output.contains("08_bids.sql      applied"))
            #expect(output.contains("foundation"))
        }
    }

    @Test("serve --print-pool-size prints the pool size from JIEBANG_DB_POOL_SIZE, or the binary's own default")
    func printPoolSize() throws {
        let fromVariable = try Self.run(
            ["serve", "--print-pool-size"], environment: ["JIEBANG_DB_POOL_SIZE": "7", "PATH": "/usr/bin:/bin"])
        #expect(fromVariable.status == 0)
        #expect(fromVariable.output == "7\n")
        let byDefault = try Self.run(["serve", "--print-pool-size"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(byDefault.status == 0)
        #expect(byDefault.output == "\(max(4, 4 * ProcessInfo.processInfo.activeProcessorCount))\n")
    }

    @Test(
        "A count of HTTP threads that is not a whole number from 1 to 256 is a one-line error naming it, before any connection",
        arguments: [["JIEBANG_HTTP_THREADS=many"], ["JIEBANG_HTTP_THREADS=0"], ["--http-threads", "257"]])
    func badHTTPThreads(setting: [String]) throws {
        var environment = ["PATH": "/usr/bin:/bin", "DATABASE_URL": "host=/nonexistent dbname=x"]
        var arguments = ["serve"]
        if setting.count == 1, let equals = setting[0].firstIndex(of: "=") {
            environment[String(setting[0][..<equals])] = String(setting[0][setting[0].index(after: equals)...])
        } else {
            arguments += setting
        }
        let (status, output) = try Self.run(arguments, environment: environment)
        #expect(status != 0)
        #expect(output.split(separator: "\n").count == 1, "\(output)")
        let named = setting.count == 1 ? "JIEBANG_HTTP_THREADS" : "--http-threads"
        #expect(output.contains("\(named): ") && output.contains("is not a whole number from 1 to 256"), "\(output)")
        #expect(!output.contains("connect"), "\(output)")
    }

    @Test("A port out of range is a one-line error naming --port when the option gave it, and JIEBANG_PORT when the variable did")
    func badPort() throws {
        let environment = ["PATH": "/usr/bin:/bin", "DATABASE_URL": "host=/nonexistent dbname=x"]
        let option = try Self.run(["serve", "--port", "0"], environment: environment)
        #expect(option.status != 0)
        #expect(option.output.contains("--port: 0 is not a port number (1-65535)"), "\(option.output)")
        let variable = try Self.run(["serve"], environment: environment.merging(["JIEBANG_PORT": "70000"]) { $1 })
        #expect(variable.status != 0)
        #expect(variable.output.contains("JIEBANG_PORT: 70000 is not a port number (1-65535)"), "\(variable.output)")
    }

    @Test("A pool size that is not a whole number from 1 to 500 is a one-line error naming it", arguments: ["many", "0", "501"])
    func badPoolSize(text: String) throws {
        let (status, output) = try Self.run(
            ["serve", "--print-pool-size"], environment: ["JIEBANG_DB_POOL_SIZE": text, "PATH": "/usr/bin:/bin"])
        #expect(status != 0)
        #expect(output.split(separator: "\n").count == 1)
        #expect(output.contains("JIEBANG_DB_POOL_SIZE"))
    }
}

extension CommandLineTests {
    @Test("demands import of a file whose fifth line has a remark one character too long names line 5 and 备注, and writes nothing")
    func demandImportPastALimit() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            try await db.execute(
                """
                INSERT INTO units (kind, name, credit_code, region_code, contact_name, contact_phone, contact_email, verification, decided_at)
                VALUES ('enterprise', '兰州某新材料有限公司', '91330100799655058B', '620100', '张工', '0931-8888888', 'a@b.cn', 'verified', now())
                """)
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let header = "所在市州,企业名称,统一社会信用代码,企业性质,所属重点产业链,技术需求,支持条件,联系人,联系电话,电子邮箱,备注"
            func row(remarks: String) -> String {
                "兰州市,兰州某新材料有限公司,91330100799655058B,民营,有色冶金,稀土永磁材料高温稳定性提升,场地,张工,0931-8888888,a@b.cn,\(remarks)"
            }
            let long = String(repeating: "备", count: 2_001)
            let text = [header, row(remarks: ""), row(remarks: ""), row(remarks: ""), row(remarks: long), row(remarks: "")]
                .joined(separator: "\r\n")
            let file = FileManager.default.temporaryDirectory.appending(path: "demands-\(UUID().uuidString).csv")
            try Data(text.utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let (status, output) = try Self.run(
                ["demands", "import", file.path],
                environment: ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin"])
            #expect(status != 0)
            #expect(output.contains("line 5, 备注: must have at most 2000 characters, not 2001"), "\(output)")
            #expect(try await db.query("SELECT count(*) FROM demands").first!.decode(Int.self) == 0)
        }
    }
}

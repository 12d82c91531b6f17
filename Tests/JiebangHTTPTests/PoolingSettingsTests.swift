import Foundation
import JiebangTesting
import Postgres
import Testing

/// `JIEBANG_DB_POOLING` and `JIEBANG_DIRECT_DATABASE_URL`, read by every command that opens the database.
@Suite("Running behind a transaction pooler")
struct PoolingSettingsTests {
    @Test(
        "With JIEBANG_DB_POOLING=transaction, migrate passes on an up-to-date database without a direct URL, and a bad value or the embedded database is named"
    )
    func poolingSettings() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let base = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"]
            let pooled = try CommandLineTests.run(["migrate"], environment: base.merging(["JIEBANG_DB_POOLING": "transaction"]) { $1 })
            #expect(pooled.status == 0, "\(pooled.output)")
            // The role sets no timeouts, and behind a pooler they cannot be sent at connection: the log says how to set them.
            #expect(pooled.output.contains("ALTER ROLE"), "\(pooled.output)")

            let direct = try CommandLineTests.run(
                ["migrate", "--status"],
                environment: base.merging(["JIEBANG_DB_POOLING": "transaction", "JIEBANG_DIRECT_DATABASE_URL": server + " dbname=\(name)"])
                { $1 })
            #expect(direct.status == 0, "\(direct.output)")

            let bad = try CommandLineTests.run(["migrate"], environment: base.merging(["JIEBANG_DB_POOLING": "statement"]) { $1 })
            #expect(bad.status != 0)
            #expect(bad.output.contains("JIEBANG_DB_POOLING: statement is neither session nor transaction"), "\(bad.output)")
        }
        let folder = FileManager.default.temporaryDirectory.appending(path: "pooling-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let embedded = try CommandLineTests.run(
            ["migrate"], environment: ["PATH": "/usr/bin:/bin", "JIEBANG_DATA_DIR": folder.path, "JIEBANG_DB_POOLING": "transaction"])
        #expect(embedded.status != 0)
        #expect(embedded.output.contains("JIEBANG_DB_POOLING: transaction needs DATABASE_URL"), "\(embedded.output)")
    }
}

import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Prepared statement cache")
struct StatementCacheTests {
    @Test("A cached statement whose result type changed is prepared again, and results stay correct")
    func reprepareAfterSchemaChange() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.execute("CREATE TABLE units (id int)")
            try await db.execute("INSERT INTO units VALUES (1)")
            let before = try await db.query("SELECT * FROM units")
            #expect(before.columns.count == 1)
            try await db.execute("ALTER TABLE units ADD COLUMN name text DEFAULT '兰州'")
            let after = try await db.query("SELECT * FROM units")
            #expect(after.columns.map(\.name) == ["id", "name"])
            let (id, name) = try after.first!.decode((Int, String).self)
            #expect(id == 1 && name == "兰州")
            // The same text with different parameter types is a different statement.
            let asInt = try await db.query("SELECT \(Int32(5)) AS x").first!.decode(Int.self)
            let asText = try await db.query("SELECT \("5") AS x").first!.decode(String.self)
            #expect(asInt == 5 && asText == "5")
        }
    }

    @Test("With the cache turned off every query still runs")
    func cacheOff() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            var configuration = db.configuration
            configuration.preparedStatementCacheSize = 0
            let uncached = PostgresClient(configuration: configuration)
            let value = try await uncached.query("SELECT \(41) + 1").first!.decode(Int.self)
            let prepared = try await uncached.query("SELECT count(*) FROM pg_prepared_statements").first!.decode(Int.self)
            await uncached.close()
            #expect(value == 42)
            #expect(prepared == 0)
        }
    }
}

import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("The application's schema")
struct SchemaTests {
    @Test("Every embedded migration is well named, numbered without gaps, and applies")
    func migrationsApply() async throws {
        let migrations = try JiebangSchema.migrations()
        #expect(!migrations.isEmpty)
        #expect(migrations.map(\.version) == Array(1...migrations.count))
        try await TestDatabase.withFreshDatabase { db in
            let states = try await Migrator(client: db, migrations: migrations).status().map(\.state)
            #expect(states.allSatisfy { $0 == .applied })
            #expect(try await db.query("SELECT count(*) FROM pg_extension WHERE extname IN ('pg_trgm', 'btree_gin')").first?.decode(Int.self) == 2)
        }
    }
}

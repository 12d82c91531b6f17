import Foundation
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

    @Test("The planner inlines bid_status_is_live, so the bid triggers never run it as a SQL function")
    func liveStatusIsInlined() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let plan = try await db.query("EXPLAIN VERBOSE SELECT bid_status_is_live(status) FROM bids")
                .decode(String.self).joined(separator: "\n")
            #expect(plan.contains("status = ANY"), "\(plan)")
            #expect(!plan.contains("bid_status_is_live"), "\(plan)")
            let answers = try await db.query(
                "SELECT bid_status_is_live(s) FROM unnest(enum_range(NULL::bid_status) || NULL::bid_status) AS s ORDER BY s"
            ).decode(Bool?.self)
            #expect(answers == [false, true, true, true, false, false, true, true, nil])
        }
    }
}

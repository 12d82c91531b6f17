import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Migrations never queue behind a rush")
struct MigratorLockTests {
    let migrations = [
        Migration(version: 1, name: "units", sql: "CREATE TABLE units (id bigint PRIMARY KEY);"),
        Migration(version: 2, name: "unit_names", sql: "ALTER TABLE units ADD COLUMN name text;"),
    ]

    @Test("A migration that cannot get its lock gives up within its lock timeout, lets readers through, and succeeds once the lock is free", .timeLimit(.minutes(1)))
    func retriesUntilTheLockIsFree() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 4) { db in
            try await Migrator(client: db, migrations: Array(migrations.prefix(1))).migrate()
            try await db.execute("INSERT INTO units VALUES (1)")
            var migrator = try Migrator(client: db, migrations: migrations)
            migrator.lockTimeout = .milliseconds(100)
            migrator.lockAttempts = 100
            let release = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await db.withTransaction { tx in
                    try await tx.execute("SELECT count(*) FROM units")
                    for await _ in release.stream { break }
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            let migration = Task { try await migrator.migrate() }
            // While the ALTER waits for its lock, readers queue behind it for at most its lock timeout.
            for _ in 0..<5 {
                let started = ContinuousClock.now
                #expect(try await db.query("SELECT count(*) FROM units").first?.decode(Int.self) == 1)
                #expect(ContinuousClock.now - started < .seconds(15))
                try await Task.sleep(for: .milliseconds(100))
            }
            release.continuation.yield()
            try await holder.value
            #expect(try await migration.value.map(\.version) == [2])
            #expect(try await migrator.status().map(\.state) == [.applied, .applied])
        }
    }

    @Test("A migration that never gets its lock fails naming itself after its attempts, and nothing of it is kept", .timeLimit(.minutes(1)))
    func givesUpAfterItsAttempts() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 4) { db in
            try await Migrator(client: db, migrations: Array(migrations.prefix(1))).migrate()
            var migrator = try Migrator(client: db, migrations: migrations)
            migrator.lockTimeout = .milliseconds(50)
            migrator.lockAttempts = 3
            try await db.withTransaction { tx in
                try await tx.execute("SELECT count(*) FROM units")
                await #expect {
                    try await migrator.migrate()
                } throws: { error in
                    let error = error as? PostgresError
                    return error?.sqlState?.code == "55P03" && error?.message.contains("migration 2 (unit_names)") == true
                }
            }
            #expect(try await migrator.status().map(\.state) == [.applied, .pending])
            let columns = try await db.query(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'units' AND column_name = 'name'"
            ).first?.decode(Int.self)
            #expect(columns == 0)
            // The migrator's session is back to the pool's settings.
            #expect(try await db.query("SELECT current_setting('lock_timeout')").first?.decode(String.self) == "10s")
        }
    }
}

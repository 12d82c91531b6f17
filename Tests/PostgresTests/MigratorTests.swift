import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Migrations")
struct MigratorTests {
    let migrations = [
        Migration(version: 1, name: "units", sql: "CREATE TABLE units (id bigint PRIMARY KEY);"),
        Migration(version: 2, name: "bids", sql: "CREATE TABLE bids (id bigint PRIMARY KEY, unit_id bigint REFERENCES units);"),
    ]

    @Test("Pending migrations apply in order, once, and are listed as applied")
    func appliesInOrderOnce() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let migrator = try Migrator(client: db, migrations: migrations.reversed())
            #expect(try await migrator.status().map(\.state) == [.pending, .pending])
            #expect(try await migrator.migrate().map(\.version) == [1, 2])
            #expect(try await migrator.migrate().isEmpty)
            #expect(try await migrator.status().map(\.state) == [.applied, .applied])
            #expect(try await db.query("SELECT count(*) FROM schema_migrations").first?.decode(Int.self) == 2)
        }
    }

    @Test("An applied migration that was edited stops the run and is named")
    func editedMigrationIsRefused() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await Migrator(client: db, migrations: migrations).migrate()
            var edited = migrations
            edited[0].sql += "\n-- a later edit"
            edited.append(Migration(version: 3, name: "later", sql: "CREATE TABLE later (id int);"))
            let migrator = try Migrator(client: db, migrations: edited)
            await #expect {
                try await migrator.migrate()
            } throws: { error in
                "\(error)".contains("0001_units.sql was edited")
            }
            let states = try await migrator.status().map(\.state)
            let later = try await db.query("SELECT count(*) FROM pg_tables WHERE tablename = 'later'").first?.decode(Int.self)
            #expect(states == [.edited, .applied, .pending])
            #expect(later == 0)
        }
    }

    @Test("A failing migration is rolled back and the ones before it stay applied")
    func failingMigrationRollsBack() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let broken = migrations + [
                Migration(version: 3, name: "broken", sql: "CREATE TABLE half (id int); SELECT 1/0;")
            ]
            await #expect(throws: PostgresError.self) { try await Migrator(client: db, migrations: broken).migrate() }
            let applied = try await db.query("SELECT count(*) FROM schema_migrations").first?.decode(Int.self)
            let half = try await db.query("SELECT count(*) FROM pg_tables WHERE tablename = 'half'").first?.decode(Int.self)
            #expect(applied == 2)
            #expect(half == 0)
        }
    }

    @Test("Concurrent runs apply each migration exactly once")
    func concurrentRuns() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 8) { db in
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let client = PostgresClient(configuration: db.configuration)
                        let applied = try await Migrator(client: client, migrations: migrations).migrate().count
                        await client.close()
                        return applied
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(counts == 2)
        }
    }

    @Test("A migration's checksum is the SHA-256 of its text, and the fingerprint changes with any file")
    func checksums() {
        #expect(Migration(version: 1, name: "x", sql: "abc").checksum == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Migration(version: 1, name: "x", sql: "").checksum == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let fingerprint = Migration.fingerprint(of: migrations)
        #expect(Migration.fingerprint(of: migrations.reversed()) == fingerprint)
        var edited = migrations
        edited[1].sql += " "
        #expect(Migration.fingerprint(of: edited) != fingerprint)
    }

    @Test("File names must be NNNN_name.sql and versions unique")
    func fileNames() throws {
        #expect(try Migration(fileName: "0007_job_queue.sql", sql: "").version == 7)
        #expect(throws: MigrationError.self) { try Migration(fileName: "7_job_queue.sql", sql: "") }
        #expect(throws: MigrationError.self) { try Migration(fileName: "0007.sql", sql: "") }
        #expect(Migration(version: 1, name: "x", sql: "-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);").runsInTransaction == false)
        #expect(throws: MigrationError.self) {
            try Migrator(
                client: PostgresClient(configuration: PostgresConfiguration()),
                migrations: [Migration(version: 1, name: "a", sql: ""), Migration(version: 1, name: "b", sql: "")])
        }
    }
}

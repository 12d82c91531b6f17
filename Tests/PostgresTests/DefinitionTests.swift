import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Repeatable definition files")
struct DefinitionTests {
    let migrations = [
        Migration(version: 1, name: "units", sql: "CREATE TABLE units (id bigint PRIMARY KEY, touched integer NOT NULL DEFAULT 0);")
    ]

    func definitions(answer: Int) -> [Definition] {
        [
            Definition(
                name: "02_units",
                sql: """
                    CREATE OR REPLACE TRIGGER units_touch BEFORE UPDATE ON units FOR EACH ROW EXECUTE FUNCTION touch();
                    """),
            Definition(
                name: "01_common",
                sql: """
                    CREATE OR REPLACE FUNCTION answer() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT \(answer) $$;
                    CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN NEW.touched := OLD.touched + 1; RETURN NEW; END; $$;
                    """),
        ]
    }

    @Test("Definition files apply after the migrations in name order, and again only when one changes")
    func appliedWhenDue() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let first = try Migrator(client: db, migrations: migrations, definitions: definitions(answer: 1))
            #expect(try await first.definitionStatus().map(\.state) == [.new, .new])
            let outcome = try await first.apply()
            #expect(outcome.migrations.map(\.version) == [1])
            #expect(outcome.definitions.map(\.name) == ["01_common", "02_units"])
            #expect(try await first.definitionStatus().map(\.state) == [.applied, .applied])
            try await db.execute("INSERT INTO units (id) VALUES (1)")
            try await db.execute("UPDATE units SET id = 1")
            #expect(try await db.query("SELECT touched FROM units").first?.decode(Int.self) == 1)

            #expect(try await first.apply().definitions.isEmpty)
            let second = try Migrator(client: db, migrations: migrations, definitions: definitions(answer: 2))
            #expect(try await second.definitionStatus().map(\.state) == [.changed, .applied])
            #expect(try await second.apply().definitions.count == 2)
            #expect(try await db.query("SELECT answer()").first?.decode(Int.self) == 2)
            #expect(try await second.definitionStatus().map(\.state) == [.applied, .applied])
        }
    }

    @Test("A definition file that fails is named, and none of them is applied or recorded")
    func failingDefinition() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let broken = definitions(answer: 1) + [Definition(name: "03_broken", sql: "CREATE OR REPLACE VIEW v AS SELECT nothing FROM units;")]
            let migrator = try Migrator(client: db, migrations: migrations, definitions: broken)
            await #expect {
                try await migrator.apply()
            } throws: { error in
                "\(error)".contains("definition file 03_broken.sql failed")
            }
            #expect(try await migrator.definitionStatus().map(\.state) == [.new, .new, .new])
            #expect(try await db.query("SELECT count(*) FROM pg_proc WHERE proname = 'answer'").first?.decode(Int.self) == 0)
            #expect(try await migrator.status().map(\.state) == [.applied])
        }
    }

    @Test("A definition file a newer program recorded is listed as unknown, and an older program leaves the definitions alone")
    func newerDatabase() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let newer = migrations + [Migration(version: 2, name: "later", sql: "ALTER TABLE units ADD COLUMN later integer;")]
            try await Migrator(client: db, migrations: newer, definitions: definitions(answer: 2) + [Definition(name: "09_later", sql: "")]).migrate()
            let older = try Migrator(client: db, migrations: migrations, definitions: definitions(answer: 1))
            #expect(try await older.definitionStatus().map(\.state) == [.changed, .applied, .unknown])
            #expect(try await older.apply().definitions.isEmpty)
            #expect(try await db.query("SELECT answer()").first?.decode(Int.self) == 2)
        }
    }

    @Test("A migration rewritten in place counts as applied where its former text was, and its record takes the new checksum")
    func rewrittenMigration() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let former = Migration(version: 1, name: "units", sql: "CREATE TABLE units (id bigint PRIMARY KEY); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;")
            try await Migrator(client: db, migrations: [former]).migrate()
            let rewritten = Migration(
                version: 1, name: "units",
                sql: "-- former checksum: \(former.checksum)\nCREATE TABLE units (id bigint PRIMARY KEY);")
            #expect(rewritten.formerChecksums == [former.checksum])
            let migrator = try Migrator(
                client: db, migrations: [rewritten],
                definitions: [Definition(name: "01_f", sql: "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;")])
            #expect(try await migrator.status().map(\.state) == [.applied])
            let outcome = try await migrator.apply()
            #expect(outcome.migrations.isEmpty)
            #expect(outcome.definitions.map(\.name) == ["01_f"])
            #expect(try await db.query("SELECT checksum FROM schema_migrations").first?.decode(String.self) == rewritten.checksum)

            var edited = rewritten
            edited.sql += "\n-- edited again"
            await #expect {
                try await Migrator(client: db, migrations: [edited]).migrate()
            } throws: { error in
                "\(error)".contains("0001_units.sql was edited")
            }
        }
    }

    @Test("Definition files are named NN_area.sql and their names are unique")
    func fileNames() throws {
        #expect(try Definition(fileName: "08_bids.sql", sql: "").name == "08_bids")
        #expect(throws: MigrationError.self) { try Definition(fileName: "bids.sql", sql: "") }
        #expect(throws: MigrationError.self) { try Definition(fileName: "8_bids.sql", sql: "") }
        #expect(throws: MigrationError.self) {
            try Migrator(
                client: PostgresClient(configuration: PostgresConfiguration()), migrations: [],
                definitions: [Definition(name: "01_a", sql: ""), Definition(name: "01_a", sql: "x")])
        }
    }
}

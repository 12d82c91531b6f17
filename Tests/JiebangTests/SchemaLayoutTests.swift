import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Where the schema's rules live")
struct SchemaLayoutTests {
    /// The migrations 0001 to 0014 as they were before functions and triggers moved to SQL/definitions.
    static func formerMigrations() throws -> [Migration] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures/migrations-0014")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted().map {
            try Migration(fileName: $0, sql: String(contentsOf: folder.appending(path: $0), encoding: .utf8))
        }
    }

    /// Everything of the public schema that is not data, one line per object, as PostgreSQL prints it.
    static func catalogue(of db: PostgresClient) async throws -> Set<String> {
        let queries: [PostgresQuery] = [
            """
            SELECT 'function ' || p.oid::regprocedure::text || E'\n' || pg_get_functiondef(p.oid)
            FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
            """,
            """
            SELECT 'trigger ' || tgrelid::regclass::text || ' ' || pg_get_triggerdef(oid) || ' ' || tgenabled::text
            FROM pg_trigger WHERE NOT tgisinternal
            """,
            """
            SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                   || CASE WHEN convalidated THEN '' ELSE ' (not valid)' END
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            """,
            "SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'",
            """
            SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                   || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attgenerated::text || a.attidentity::text
                   || ' after ' || coalesce((SELECT string_agg(b.attname, ',' ORDER BY b.attnum) FROM pg_attribute b
                                             WHERE b.attrelid = a.attrelid AND b.attnum > 0 AND b.attnum < a.attnum
                                               AND NOT b.attisdropped), '')
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid AND c.relnamespace = 'public'::regnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attnum > 0 AND NOT a.attisdropped
            """,
            """
            SELECT 'relation ' || relname || ' ' || relkind::text || ' ' || coalesce(array_to_string(reloptions, ','), '')
            FROM pg_class WHERE relnamespace = 'public'::regnamespace
            """,
            """
            SELECT 'type ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
            FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
            WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
            """,
            "SELECT 'view ' || viewname || ' ' || definition FROM pg_views WHERE schemaname = 'public'",
            "SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension",
        ]
        var lines: Set<String> = []
        for query in queries {
            for line in try await db.query(query).decode(String.self) {
                lines.insert(line)
            }
        }
        return lines
    }

    @Test("A database migrated to 0014 with the former files, then to the present layout, has the catalogue of a new one")
    func existingAndNewDatabasesAgree() async throws {
        let former = try Self.formerMigrations()
        #expect(former.map(\.version) == Array(1...14))
        let present = try JiebangSchema.migrations()
        for migration in former {
            let now = try #require(present.first { $0.version == migration.version })
            #expect(now.checksum == migration.checksum || now.formerChecksums.contains(migration.checksum), "\(migration.name)")
        }
        let existing = try await TestDatabase.withEmptyDatabase { db in
            try await Migrator(client: db, migrations: former).migrate()
            let migrator = try JiebangSchema.migrator(client: db)
            #expect(try await migrator.status().allSatisfy { $0.state == ($0.version <= 14 ? .applied : .pending) })
            let outcome = try await migrator.apply()
            #expect(outcome.migrations.map(\.version) == present.map(\.version).filter { $0 > 14 })
            #expect(outcome.definitions.count == (try JiebangSchema.definitions()).count)
            let checksums = try await db.query("SELECT checksum FROM schema_migrations ORDER BY version").decode(String.self)
            #expect(checksums == present.map(\.checksum))
            #expect(try await migrator.definitionStatus().allSatisfy { $0.state == .applied })
            return try await Self.catalogue(of: db)
        }
        let fresh = try await TestDatabase.withEmptyDatabase { db in
            try await JiebangSchema.migrator(client: db).migrate()
            return try await Self.catalogue(of: db)
        }
        #expect(fresh.count > 200)
        #expect(existing.subtracting(fresh).sorted() == [])
        #expect(fresh.subtracting(existing).sorted() == [])
    }

    /// `CREATE [OR REPLACE] FUNCTION|TRIGGER|VIEW name` in a SQL text, comments left out.
    static func created(in sql: String) -> [String] {
        let code = sql.split(separator: "\n").map { line in line.range(of: "--").map { String(line[..<$0.lowerBound]) } ?? String(line) }
            .joined(separator: "\n")
        let pattern = /CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|TRIGGER|VIEW)\s+([a-z_0-9]+)/
        return code.matches(of: pattern).map { "\($0.output.1.lowercased()) \($0.output.2)" }
    }

    @Test("Every function, trigger and view is written once in SQL/, and a migration creates only functions a table's constraint, index or generated column calls")
    func everyRuleWrittenOnce() async throws {
        let migrations = try JiebangSchema.migrations()
        let definitions = try JiebangSchema.definitions()
        let inMigrations = migrations.flatMap { Self.created(in: $0.sql) }
        let inDefinitions = definitions.flatMap { Self.created(in: $0.sql) }
        var seen: [String: Int] = [:]
        for name in inMigrations + inDefinitions {
            seen[name, default: 0] += 1
        }
        #expect(seen.filter { $0.value > 1 }.keys.sorted() == [])
        #expect(inDefinitions.count > 30)
        #expect(inMigrations.allSatisfy { $0.hasPrefix("function ") })

        let tableBound = try await TestDatabase.withFreshDatabase { db in
            Set(
                try await db.query(
                    """
                    SELECT DISTINCT 'function ' || p.proname FROM pg_depend d JOIN pg_proc p ON p.oid = d.refobjid
                    WHERE d.refclassid = 'pg_proc'::regclass AND p.pronamespace = 'public'::regnamespace
                      AND d.classid IN ('pg_constraint'::regclass, 'pg_attrdef'::regclass, 'pg_class'::regclass)
                    """
                ).decode(String.self))
        }
        #expect(Set(inMigrations) == tableBound)
        #expect(tableBound.isDisjoint(with: inDefinitions))
    }
}

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

    /// The tables the deadline rush writes (a submission, and its token's last-use stamp).
    static let submissionTables = ["bids", "bid_members", "bid_live_units", "bid_submissions", "audit_log", "access_tokens"]

    @Test("On the tables a submission writes, no trigger's WHEN clause nor CHECK constraint calls a SQL function, which PostgreSQL would parse for every statement")
    func nothingParsedPerStatement() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let functions = Set(
                try await db.query(
                    """
                    SELECT p.proname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                    WHERE l.lanname = 'sql' AND p.pronamespace = 'public'::regnamespace
                    """
                ).decode(String.self))
            #expect(functions.isSuperset(of: ["bid_status_is_live", "bid_content_digest"]))
            let expressions = try await db.query(
                """
                SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
                WHERE tgqual IS NOT NULL AND NOT tgisinternal AND tgrelid = ANY (\(Self.submissionTables)::regclass[])
                UNION ALL
                SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                WHERE contype = 'c' AND conrelid = ANY (\(Self.submissionTables)::regclass[])
                """
            ).decode((String, String).self)
            #expect(expressions.count > 15)
            for (name, expression) in expressions {
                let called = functions.filter { expression.contains("\($0)(") }
                #expect(called.isEmpty, "\(name) calls \(called): \(expression)")
            }
        }
    }

    @Test("The planner inlines bid_content_digest, so a receipt's digest is an expression of its statement")
    func digestIsInlined() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let plan = try await db.query("EXPLAIN VERBOSE SELECT bid_content_digest(content) FROM bid_submissions")
                .decode(String.self).joined(separator: "\n")
            #expect(plan.contains("sha256(convert_to"), "\(plan)")
            #expect(!plan.contains("bid_content_digest"), "\(plan)")
            let digest = try await db.query(
                "SELECT bid_content_digest('{\"b\": 1, \"a\": \"揭榜\"}'::jsonb) = encode(sha256(convert_to('{\"a\": \"揭榜\", \"b\": 1}', 'UTF8')), 'hex')"
            ).first!.decode(Bool.self)
            #expect(digest)
        }
    }
}

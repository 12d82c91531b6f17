import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("The audit trail's hash chain")
struct AuditChainTests {
    /// Appends `count` audit entries, each in its own transaction.
    static func append(_ count: Int, on db: PostgresClient, from start: Int = 0) async throws {
        for index in start..<(start + count) {
            try await db.withTransaction { tx in
                try await AuditLog.append(
                    actor: "测试员\(index)", actorID: index, action: "test.change", entity: "thing", entityID: "\(index)",
                    before: index.isMultiple(of: 2) ? nil : ["state": "old \(index)"],
                    after: ["state": "new \(index)", "备注": "第\(index)条"],
                    on: tx)
            }
        }
    }

    static func seal(_ db: PostgresClient) async throws -> Int {
        try await db.withTransaction { try await AuditChain.seal(on: $0) }
    }

    static func verify(_ db: PostgresClient) async throws -> AuditChain.Report {
        try await db.withConnection { try await AuditChain.verify(settle: .zero, on: $0) }
    }

    /// Runs `sql` as a superuser would, with every trigger bypassed.
    static func tamper(_ db: PostgresClient, _ sql: PostgresQuery) async throws {
        try await db.withTransaction { tx in
            try await tx.execute("SET LOCAL session_replication_role = replica")
            try await tx.execute(sql)
        }
    }

    @Test("Sealing links every committed entry once, in batches; the chain verifies and its head is stable")
    func sealAndVerify() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await Self.append(7, on: db)
            #expect(try await Self.seal(db) == 7)
            #expect(try await Self.seal(db) == 0)
            try await Self.append(3, on: db, from: 7)
            let before = try await Self.verify(db)
            #expect(before.holds)
            #expect(before.sealed == 7)
            #expect(before.unsealed == 3, "the unsealed tail is counted")
            #expect(try await Self.seal(db) == 3)
            let report = try await Self.verify(db)
            #expect(report.holds, "\(report.problem ?? "")")
            #expect(report.sealed == 10)
            let head = try await db.withConnection { try await AuditChain.head(on: $0) }
            #expect(head == report.head)
            #expect(head.hash.count == 64)
            // The seals are append-only to anyone who does not bypass the triggers.
            await #expect {
                try await db.execute("UPDATE audit_seals SET hash = hash WHERE seq = 1")
            } throws: { ($0 as? PostgresError)?.constraint == "audit_log_append_only" }
        }
    }

    @Test("An entry edited, deleted, inserted or reordered by a superuser who bypasses the triggers is found and named")
    func tamperingIsFound() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await Self.append(12, on: db)
            #expect(try await Self.seal(db) == 12)
            let ids = try await db.query("SELECT id FROM audit_log ORDER BY id").map { try $0.decode(Int.self) }

            // Edited: one character of one entry's after state.
            try await Self.tamper(db, "UPDATE audit_log SET after = jsonb_set(after, '{state}', '\"forged\"') WHERE id = \(ids[4])")
            let edited = try await Self.verify(db)
            #expect(edited.problem?.hasPrefix("audit entry \(ids[4]) (seal 5) was edited") == true, "\(edited.problem ?? "holds")")
            #expect(edited.sealed == 4, "the chain holds up to the entry before")
            try await Self.tamper(db, "UPDATE audit_log SET after = jsonb_set(after, '{state}', '\"new 4\"') WHERE id = \(ids[4])")
            #expect(try await Self.verify(db).holds, "restoring the entry restores the chain")

            // Edited in its time only, by a microsecond.
            try await Self.tamper(db, "UPDATE audit_log SET at = at + interval '1 microsecond' WHERE id = \(ids[2])")
            #expect(try await Self.verify(db).problem?.hasPrefix("audit entry \(ids[2]) (seal 3)") == true)
            try await Self.tamper(db, "UPDATE audit_log SET at = at - interval '1 microsecond' WHERE id = \(ids[2])")

            // Reordered: two entries swap their contents.
            try await Self.tamper(
                db,
                """
                UPDATE audit_log a SET actor_label = b.actor_label, actor_id = b.actor_id, entity_id = b.entity_id, before = b.before, after = b.after
                FROM audit_log b WHERE (a.id, b.id) IN ((\(ids[6]), \(ids[7])), (\(ids[7]), \(ids[6])))
                """)
            #expect(try await Self.verify(db).problem?.hasPrefix("audit entry \(ids[6]) (seal 7)") == true)
            try await Self.tamper(
                db,
                """
                UPDATE audit_log a SET actor_label = b.actor_label, actor_id = b.actor_id, entity_id = b.entity_id, before = b.before, after = b.after
                FROM audit_log b WHERE (a.id, b.id) IN ((\(ids[6]), \(ids[7])), (\(ids[7]), \(ids[6])))
                """)
            #expect(try await Self.verify(db).holds)

            // Inserted: an entry slipped in behind the sealed ones (an id no sealer will reach).
            try await Self.tamper(
                db,
                """
                INSERT INTO audit_log (id, actor_label, action, entity, entity_id) OVERRIDING SYSTEM VALUE
                VALUES (-1, '冒充者', 'test.change', 'thing', 'x')
                """)
            let fresh = try await Self.verify(db)
            #expect(fresh.problem?.hasPrefix("audit entry -1 is not in the chain") == true, "\(fresh.problem ?? "holds")")
            // With the default settling time it is counted in the tail until the seals around it are an hour old.
            let tail = try await db.withConnection { try await AuditChain.verify(on: $0) }
            #expect(tail.holds)
            #expect(tail.unsealed == 1)
            try await Self.tamper(db, "DELETE FROM audit_log WHERE id = -1")

            // Deleted: an entry, and then its seal too.
            try await Self.tamper(db, "DELETE FROM audit_log WHERE id = \(ids[10])")
            #expect(try await Self.verify(db).problem == "audit entry \(ids[10]) (seal 11) was deleted")
            try await Self.tamper(db, "DELETE FROM audit_seals WHERE seq = 11")
            #expect(try await Self.verify(db).problem?.hasPrefix("seal 11 is missing") == true)
        }
    }
}

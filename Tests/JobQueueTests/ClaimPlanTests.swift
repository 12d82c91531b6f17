import Foundation
import JiebangTesting
import JobQueue
import Postgres
import Testing

@Suite("Claiming at scale")
struct ClaimPlanTests {
    @Test("With 200,000 finished rows the claim is an index scan of ready jobs only, and still ordered")
    func claimIgnoresFinishedRows() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await db.execute(
                """
                INSERT INTO jobs (kind, state, finished_at, attempt)
                SELECT 'test.scripted', 'completed', now() - interval '1 hour', 1 FROM generate_series(1, 200000)
                """)
            let jobs = JobClient()
            let late = try await jobs.enqueue(Scripted(action: .succeed), options: JobOptions(priority: 7), using: db)
            let early = try await jobs.enqueue(Scripted(action: .succeed), options: JobOptions(priority: 1), using: db)
            try await db.execute("ANALYZE jobs")
            let plan = try await db.query(
                """
                EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT)
                SELECT id FROM jobs WHERE state = 'available' AND queue = 'default'
                ORDER BY priority, run_at, id LIMIT 10 FOR UPDATE SKIP LOCKED
                """
            ).decode(String.self).joined(separator: "\n")
            #expect(plan.contains("jobs_ready"), "\(plan)")
            #expect(!plan.contains("Seq Scan"), "\(plan)")
            let claimed = try await db.withConnection {
                try await JobStore.claim(queue: "default", limit: 10, owner: "w", lease: .seconds(30), on: $0)
            }
            #expect(claimed.map(\.id) == [early.id, late.id])
        }
    }
}

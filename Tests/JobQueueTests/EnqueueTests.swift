import Foundation
import JiebangTesting
import JobQueue
import Postgres
import Testing

@Suite("Enqueueing")
struct EnqueueTests {
    struct Abort: Error {}

    @Test("A job enqueued in a transaction that rolls back is never enqueued")
    func rollbackEnqueuesNothing() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let jobs = JobClient()
            try await createEffectsTable(db)
            await #expect(throws: Abort.self) {
                try await db.withTransaction { tx in
                    try await tx.execute("INSERT INTO effects VALUES (0, 'domain row')")
                    try await jobs.enqueue(RecordEffect(label: "follow-up"), on: tx)
                    throw Abort()
                }
            }
            let count = try await db.count("SELECT count(*) FROM jobs")
            let effects = try await db.count("SELECT count(*) FROM effects")
            #expect(count == 0)
            #expect(effects == 0)
        }
    }

    @Test("Options out of range are refused, naming the field, before anything is written")
    func invalidOptions() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let jobs = JobClient()
            await #expect {
                try await jobs.enqueue(Scripted(action: .succeed), options: JobOptions(priority: 12), using: db)
            } throws: { ($0 as? JobQueueError)?.message.hasPrefix("priority:") == true }
            await #expect {
                try await jobs.enqueue(Scripted(action: .succeed), options: JobOptions(maxAttempts: 0), using: db)
            } throws: { ($0 as? JobQueueError)?.message.hasPrefix("maxAttempts:") == true }
            let count = try await db.count("SELECT count(*) FROM jobs")
            #expect(count == 0)
        }
    }

    @Test("The database refuses rows that break the job rules, whoever writes them")
    func databaseEnforcesRules() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let violations: [(PostgresQuery, String)] = [
                ("INSERT INTO jobs (kind, priority) VALUES ('x', 12)", "jobs_priority_range"),
                ("INSERT INTO jobs (kind, state) VALUES ('x', 'running')", "jobs_lease_running"),
                ("INSERT INTO jobs (kind, state) VALUES ('x', 'completed')", "jobs_finished_at_final"),
                ("INSERT INTO jobs (kind, attempt, max_attempts) VALUES ('x', 3, 2)", "jobs_attempt_range"),
                ("INSERT INTO jobs (kind, args) VALUES ('x', '[1]')", "jobs_args_object"),
                ("INSERT INTO jobs (kind, unique_key) VALUES ('x', 'k')", "jobs_unique_pair"),
            ]
            for (statement, constraint) in violations {
                await #expect {
                    try await db.execute(statement)
                } throws: { ($0 as? PostgresError)?.constraint == constraint }
            }
        }
    }

    @Test("A duplicate unique job is a no-op that says so, even under concurrent enqueues")
    func uniqueJobs() async throws {
        try await TestDatabase.withFreshDatabase(maximumConnections: 10) { db in
            let jobs = JobClient()
            let options = JobOptions(uniqueKey: "remind expert 7 about assignment 3 on day 1")
            let results = try await withThrowingTaskGroup(of: JobStore.Inserted.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await jobs.enqueue(Scripted(action: .succeed), options: options, using: db) }
                }
                return try await group.reduce(into: [JobStore.Inserted]()) { $0.append($1) }
            }
            #expect(results.filter { !$0.duplicate }.count == 1)
            #expect(Set(results.map(\.id)).count == 1)
            let count = try await db.count("SELECT count(*) FROM jobs")
            #expect(count == 1)
            // Once the job is finished, the same key may be enqueued again.
            try await db.execute("UPDATE jobs SET state = 'completed', finished_at = now()")
            let again = try await jobs.enqueue(Scripted(action: .succeed), options: options, using: db)
            #expect(!again.duplicate)
            #expect(again.id != results[0].id)
            // The database itself refuses a second live row with the key.
            await #expect {
                try await db.execute(
                    "INSERT INTO jobs (kind, unique_key, unique_states) VALUES (\(Scripted.kind), \(options.uniqueKey!), '{available}')")
            } throws: { ($0 as? PostgresError)?.constraint == "jobs_unique" }
        }
    }

    @Test("A batch is inserted in one statement; a scheduled job waits until it is due")
    func batchAndSchedule() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let jobs = JobClient()
            let ids = try await db.withTransaction { tx in
                try await jobs.enqueue(batch: (0..<500).map { RecordEffect(label: "\($0)") }, on: tx)
            }
            #expect(ids.count == 500)
            let later = Date().addingTimeInterval(3600)
            let scheduled = try await jobs.enqueue(Scripted(action: .succeed), options: JobOptions(runAt: later), using: db)
            #expect(try await db.jobState(scheduled.id) == .scheduled)
            let maintenance = JobMaintenance(client: db, jobs: jobs)
            _ = try await maintenance.promoteOnce(asOf: later.addingTimeInterval(-60))
            #expect(try await db.jobState(scheduled.id) == .scheduled)
            _ = try await maintenance.promoteOnce(asOf: later.addingTimeInterval(1))
            #expect(try await db.jobState(scheduled.id) == .available)
        }
    }

    @Test("Claims follow priority then run_at, and concurrent claims never share a job")
    func claimOrderAndSkipLocked() async throws {
        try await TestDatabase.withFreshDatabase(maximumConnections: 8) { db in
            let jobs = JobClient()
            let low = try await jobs.enqueue(Scripted(action: .succeed), options: JobOptions(priority: 9), using: db)
            let high = try await jobs.enqueue(Scripted(action: .succeed), options: JobOptions(priority: 0), using: db)
            let first = try await db.withConnection {
                try await JobStore.claim(queue: "default", limit: 1, owner: "a", lease: .seconds(30), on: $0)
            }
            #expect(first.map(\.id) == [high.id])
            #expect(first.first?.attempt == 1)
            _ = low
            _ = try await db.withTransaction { try await jobs.enqueue(batch: (0..<400).map { _ in Scripted(action: .succeed) }, on: $0) }
            let claimed = try await withThrowingTaskGroup(of: [Int].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [Int] = []
                        while true {
                            let batch = try await db.withConnection {
                                try await JobStore.claim(queue: "default", limit: 10, owner: "w\(worker)", lease: .seconds(30), on: $0)
                            }
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(claimed.count == 401)
            #expect(Set(claimed).count == 401)
        }
    }
}

import Foundation
import JiebangTesting
import JobQueue
import Postgres
import Testing

/// A job that always fails, whose kind allows two attempts.
struct AlwaysFails: JobArguments {
    static let kind = "test.always_fails"
    static var defaultOptions: JobOptions { JobOptions(maxAttempts: 2) }
}

@Suite("The retry limit")
struct RetryLimitTests {
    @Test(
        "Each job gets the attempts stored with it: the kind's default, the enqueue's options, or a hand-written row's",
        .timeLimit(.minutes(2)))
    func storedLimitRules() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let jobs = JobClient()
            let byKind = try await jobs.enqueue(AlwaysFails(), using: db)
            let byOptions = try await jobs.enqueue(AlwaysFails(), options: JobOptions(maxAttempts: 4), using: db)
            let byHand = try await db.query(
                "INSERT INTO jobs (kind, max_attempts) VALUES (\(AlwaysFails.kind), 3) RETURNING id"
            ).first!.decode(Int.self)
            // The registration gives a backoff only; it has no way to state another limit.
            var registry = JobRegistry()
            registry.register(AlwaysFails.self, retry: .fixed(.zero)) { job, _ in throw ScriptedFailure(attempt: job.attempt) }
            var maintenance = JobMaintenance.Configuration()
            maintenance.promoteInterval = .milliseconds(100)
            try await withRunning([
                JobWorker(client: db, registry: registry, configuration: testWorkerConfiguration()),
                JobMaintenance(client: db, jobs: jobs, configuration: maintenance),
            ]) {
                // Each attempt takes a poll and a promotion; the deadline is for a loaded two-core machine.
                #expect(await eventually(timeout: .seconds(90)) {
                    (try? await db.count("SELECT count(*) FROM jobs WHERE state = 'discarded'")) == 3
                })
            }
            for (id, limit) in [(byKind.id, 2), (byOptions.id, 4), (byHand, 3)] {
                let (attempt, maxAttempts, errors) = try await db.query(
                    "SELECT attempt, max_attempts, jsonb_array_length(errors) FROM jobs WHERE id = \(id)"
                ).first!.decode((Int, Int, Int).self)
                #expect(attempt == limit)
                #expect(maxAttempts == limit)
                #expect(errors == limit)
            }
        }
    }

    @Test("A job inserted by hand without max_attempts gets the same limit as JobOptions' default")
    func columnDefaultIsTheOptionsDefault() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let stored = try await db.query(
                "INSERT INTO jobs (kind) VALUES (\(AlwaysFails.kind)) RETURNING max_attempts"
            ).first!.decode(Int.self)
            #expect(stored == JobOptions().maxAttempts)
        }
    }
}

import Foundation
import JiebangTesting
import JobQueue
import Postgres
import Synchronization
import Testing

/// A job whose handler waits until the test opens the gate of its attempt, ignoring cancellation.
struct GatedJob: JobArguments {
    static let kind = "test.gated"
}

/// The gates `GatedJob` waits on, one per attempt, and how many times it ran.
final class AttemptGates: Sendable {
    private let state = Mutex<(open: Set<Int>, runs: [Int])>(([], []))

    func open(_ attempt: Int) { state.withLock { _ = $0.open.insert(attempt) } }

    var runs: [Int] { state.withLock { $0.runs } }

    func run(attempt: Int) async {
        state.withLock { $0.runs.append(attempt) }
        // At most 30 s, so a failing test ends rather than hangs.
        let deadline = ContinuousClock.now + .seconds(30)
        while !state.withLock({ $0.open.contains(attempt) }) && ContinuousClock.now < deadline {
            // Not `Task.sleep`, which throws at cancellation: the run must outlive its lost lease.
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.02) { continuation.resume() }
            }
        }
    }
}

@Suite("A lease belongs to one claim")
struct LeaseClaimTests {
    @Test("A completion, renewal or release for an earlier claim of a job leaves the job's next claim alone")
    func earlierClaimCannotTouchTheNext() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let job = try await JobClient().enqueue(GatedJob(), using: db)
            let first = try await db.withConnection {
                try await JobStore.claim(queue: "default", limit: 1, owner: "worker-a", lease: .seconds(30), on: $0)
            }
            // The lease is lost (a fail-over, a starved pool): the job is rescued, then claimed again by the same process.
            try await db.execute(
                "UPDATE jobs SET state = 'available', lease_owner = NULL, lease_expires_at = NULL WHERE id = \(job.id)")
            let second = try await db.withConnection {
                try await JobStore.claim(queue: "default", limit: 1, owner: "worker-a", lease: .seconds(30), on: $0)
            }
            #expect(first.map(\.claim) == [JobClaim(jobID: job.id, attempt: 1)])
            #expect(second.map(\.claim) == [JobClaim(jobID: job.id, attempt: 2)])
            let now = Date()
            let success = JobTransition.after(.succeeded, attempt: 1, maxAttempts: 25, now: now, policy: .default)
            try await db.withConnection { conn in
                let renewed = try await JobStore.renewLeases([first[0].claim], owner: "worker-a", lease: .seconds(30), on: conn)
                #expect(renewed.isEmpty)
                #expect(try await JobStore.release([first[0].claim], owner: "worker-a", on: conn) == 0)
                let completed = try await JobStore.complete(
                    [.init(claim: first[0].claim, transition: success, now: now)], owner: "worker-a", on: conn)
                #expect(completed.isEmpty)
                #expect(try await db.jobState(job.id) == .running)
                let renewedSecond = try await JobStore.renewLeases(
                    [second[0].claim], owner: "worker-a", lease: .seconds(30), on: conn)
                #expect(renewedSecond.map(\.claim) == [second[0].claim])
                let completedSecond = try await JobStore.complete(
                    [.init(claim: second[0].claim, transition: success, now: now)], owner: "worker-a", on: conn)
                #expect(completedSecond == [job.id])
            }
            #expect(try await db.jobState(job.id) == .completed)
        }
    }

    @Test("A worker whose first run lost its lease and that claimed the job again finishes only with the second run, renewing its lease meanwhile", .timeLimit(.minutes(1)))
    func sameWorkerClaimsAgain() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let gates = AttemptGates()
            var registry = JobRegistry()
            registry.register(GatedJob.self, retry: .fixed(.zero)) { job, _ in await gates.run(attempt: job.attempt) }
            var configuration = testWorkerConfiguration(concurrency: 2)
            configuration.leaseDuration = .milliseconds(1500)
            let worker = JobWorker(client: db, registry: registry, configuration: configuration)
            let job = try await JobClient().enqueue(GatedJob(), using: db)
            try await withRunning([worker]) {
                #expect(await eventually { gates.runs == [1] })
                // The rescuer's move, made while the first run still runs: the job is available again.
                try await db.execute(
                    "UPDATE jobs SET state = 'available', lease_owner = NULL, lease_expires_at = NULL WHERE id = \(job.id)")
                #expect(await eventually { gates.runs == [1, 2] })
                gates.open(1)
                // The first run ended; the second still runs, and its lease is renewed: the expiry moves on
                // (waiting for a later value, not a deadline, holds on a loaded machine).
                let first = try await db.query("SELECT lease_expires_at FROM jobs WHERE id = \(job.id)").first!.decode(Date?.self)
                let renewed = await eventually(timeout: .seconds(30)) {
                    let now = try? await db.query("SELECT lease_expires_at FROM jobs WHERE id = \(job.id)").first?.decode(Date?.self)
                    return (now ?? nil).map { expiry in first.map { expiry > $0 } ?? false } ?? false
                }
                #expect(renewed, "the second run's lease was not renewed")
                let (state, attempt) = try await db.query("SELECT state::text, attempt FROM jobs WHERE id = \(job.id)")
                    .first!.decode((String, Int).self)
                #expect(state == "running")
                #expect(attempt == 2)
                gates.open(2)
                #expect(await eventually { (try? await db.jobState(job.id)) == .completed })
            }
            #expect(gates.runs == [1, 2])
            #expect(try await db.count("SELECT attempt FROM jobs WHERE id = \(job.id)") == 2)
        }
    }
}

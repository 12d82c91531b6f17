import Foundation
import JiebangTesting
import JobQueue
import Postgres
import Testing

@Suite("Operator commands on jobs")
struct JobOperationsTests {
    /// Enqueues a `Scripted` job that succeeds.
    private func enqueue(_ db: PostgresClient, options: JobOptions = JobOptions()) async throws -> Int {
        try await JobClient().enqueue(Scripted(action: .succeed), options: options, using: db).id
    }

    /// Claims every available job of the default queue, so they are running.
    private func claimAll(_ db: PostgresClient) async throws -> [Int] {
        try await db.withConnection {
            try await JobStore.claim(queue: "default", limit: 100, owner: "test-worker", lease: .seconds(60), on: $0)
        }.map(\.id)
    }

    /// Moves job `id` to a final state, as a worker would, recording an error if `message` is given.
    private func finish(_ db: PostgresClient, _ id: Int, as state: JobState, message: String? = nil) async throws {
        try await db.execute(
            """
            UPDATE jobs SET state = \(state.rawValue)::job_state, finished_at = now(),
                   attempt = GREATEST(attempt, 1),
                   errors = CASE WHEN \(message)::text IS NULL THEN errors
                                 ELSE errors || jsonb_build_array(jsonb_build_object(
                                     'attempt', GREATEST(attempt, 1), 'at', now(), 'message', \(message)::text)) END
            WHERE id = \(id)
            """)
    }

    @Test("Listing filters by state, kind and queue, newest first, and pages with the id cursor")
    func listFiltersAndPages() async throws {
        try await TestDatabase.withFreshDatabase { db in
            var scripted: [Int] = []
            for _ in 0..<5 { scripted.append(try await enqueue(db)) }
            let effect = try await JobClient().enqueue(RecordEffect(label: "x"), using: db).id
            let mail = try await enqueue(db, options: JobOptions(queue: "mail"))
            let later = try await enqueue(db, options: JobOptions(runAt: Date().addingTimeInterval(3600)))
            try await finish(db, scripted[0], as: .completed)

            let all = try await db.withConnection {
                try await JobStore.list(state: nil, kind: nil, queue: nil, afterID: nil, limit: 100, on: $0)
            }
            #expect(all.map(\.id) == ([later, mail, effect] + scripted.reversed()))

            let scheduled = try await db.withConnection {
                try await JobStore.list(state: .scheduled, kind: nil, queue: nil, afterID: nil, limit: 100, on: $0)
            }
            #expect(scheduled.map(\.id) == [later])
            #expect(scheduled.first?.state == .scheduled)

            let completed = try await db.withConnection {
                try await JobStore.list(state: .completed, kind: nil, queue: nil, afterID: nil, limit: 100, on: $0)
            }
            #expect(completed.map(\.id) == [scripted[0]])
            #expect(completed.first?.finishedAt != nil)

            let effects = try await db.withConnection {
                try await JobStore.list(state: nil, kind: RecordEffect.kind, queue: nil, afterID: nil, limit: 100, on: $0)
            }
            #expect(effects.map(\.id) == [effect])

            let onMail = try await db.withConnection {
                try await JobStore.list(state: nil, kind: nil, queue: "mail", afterID: nil, limit: 100, on: $0)
            }
            #expect(onMail.map(\.id) == [mail])

            let availableScripted = try await db.withConnection {
                try await JobStore.list(
                    state: .available, kind: Scripted.kind, queue: "default", afterID: nil, limit: 100, on: $0)
            }
            #expect(availableScripted.map(\.id) == scripted.dropFirst().reversed())

            // Pages of three, each continuing below the previous page's last id.
            var pages: [[Int]] = []
            var cursor: Int?
            while true {
                let after = cursor
                let page = try await db.withConnection {
                    try await JobStore.list(state: nil, kind: nil, queue: nil, afterID: after, limit: 3, on: $0)
                }
                guard let last = page.last else { break }
                pages.append(page.map(\.id))
                cursor = last.id
            }
            #expect(pages.map(\.count) == [3, 3, 2])
            #expect(pages.flatMap { $0 } == all.map(\.id))
        }
    }

    @Test("A job's detail shows its arguments, lease and errors in order")
    func detailShowsErrors() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let id = try await enqueue(db, options: JobOptions(uniqueKey: "report 7"))
            try await db.execute(
                """
                UPDATE jobs SET attempt = 2, errors = jsonb_build_array(
                    jsonb_build_object('attempt', 1, 'at', now() - interval '1 minute', 'message', 'first failure'),
                    jsonb_build_object('attempt', 2, 'at', now(), 'message', 'second failure'))
                WHERE id = \(id)
                """)
            try await finish(db, id, as: .discarded, message: "gave up")

            let found = try await db.withConnection { try await JobStore.detail(id: id, on: $0) }
            let detail = try #require(found)
            #expect(detail.state == .discarded)
            #expect(detail.kind == Scripted.kind)
            #expect(detail.arguments.contains("succeed"))
            #expect(detail.uniqueKey == "report 7")
            #expect(Set(detail.uniqueStates) == [.available, .scheduled, .running, .retryable])
            #expect(detail.leaseOwner == nil)
            #expect(detail.finishedAt != nil)
            #expect(detail.errors.map(\.message) == ["first failure", "second failure", "gave up"])
            #expect(detail.errors.map(\.attempt) == [1, 2, 2])
            let times = detail.errors.compactMap(\.at)
            #expect(times.count == 3)
            #expect(times == times.sorted())

            let running = try await enqueue(db)
            _ = try await claimAll(db)
            let leased = try #require(try await db.withConnection { try await JobStore.detail(id: running, on: $0) })
            #expect(leased.state == .running)
            #expect(leased.leaseOwner == "test-worker")
            #expect(leased.leaseExpiresAt != nil)
            #expect(leased.attemptedAt != nil)
            #expect(leased.errors.isEmpty)

            let missing = try await db.withConnection { try await JobStore.detail(id: 999_999, on: $0) }
            #expect(missing == nil)
        }
    }

    @Test("Retrying a discarded job makes it available now, with one more attempt allowed")
    func retryDiscarded() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let id = try await enqueue(db, options: JobOptions(maxAttempts: 1))
            _ = try await claimAll(db)
            try await db.execute(
                """
                UPDATE jobs SET state = 'discarded', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL,
                       run_at = now() - interval '1 day', cancel_requested = true
                WHERE id = \(id)
                """)

            let previous = try await db.withConnection { try await JobStore.retry(id: id, on: $0) }
            #expect(previous == .discarded)
            let detail = try #require(try await db.withConnection { try await JobStore.detail(id: id, on: $0) })
            #expect(detail.state == .available)
            #expect(detail.finishedAt == nil)
            #expect(detail.maxAttempts == 2)
            #expect(detail.cancelRequested == false)
            #expect(abs(detail.runAt.timeIntervalSinceNow) < 60)

            // It is claimable again.
            #expect(try await claimAll(db) == [id])
        }
    }

    @Test("Retrying a running or available job is refused and changes nothing")
    func retryRefused() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let running = try await enqueue(db)
            _ = try await claimAll(db)
            let available = try await enqueue(db)

            await #expect(throws: JobQueueError(.invalidState, "job \(running) is running; it cannot be retried")) {
                try await db.withConnection { try await JobStore.retry(id: running, on: $0) }
            }
            await #expect {
                try await db.withConnection { try await JobStore.retry(id: available, on: $0) }
            } throws: { ($0 as? JobQueueError)?.code == .invalidState }
            #expect(try await db.jobState(running) == .running)
            #expect(try await db.jobState(available) == .available)
        }
    }

    @Test("Retrying a unique job whose key a live job now holds is refused")
    func retryUniqueConflict() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let options = JobOptions(uniqueKey: "daily digest 2026-11-26")
            let first = try await enqueue(db, options: options)
            try await finish(db, first, as: .completed)
            let second = try await enqueue(db, options: options)
            #expect(second != first)
            await #expect {
                try await db.withConnection { try await JobStore.retry(id: first, on: $0) }
            } throws: { ($0 as? JobQueueError)?.code == .invalidState }
            #expect(try await db.jobState(first) == .completed)
        }
    }

    @Test("Cancelling a scheduled job is final and recorded")
    func cancelScheduled() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let id = try await enqueue(db, options: JobOptions(runAt: Date().addingTimeInterval(3600)))
            let result = try await db.withConnection { try await JobStore.cancel(id: id, on: $0) }
            #expect(result == .cancelled)
            let detail = try #require(try await db.withConnection { try await JobStore.detail(id: id, on: $0) })
            #expect(detail.state == .cancelled)
            #expect(detail.finishedAt != nil)
            #expect(detail.errors.map(\.message) == ["cancelled by an operator"])

            // Maintenance does not bring it back.
            _ = try await db.withConnection {
                try await JobStore.promoteDue(limit: 10, asOf: Date().addingTimeInterval(7200), on: $0)
            }
            #expect(try await db.jobState(id) == .cancelled)
        }
    }

    @Test("Discarding a waiting job gives it up for good, recorded; a running or finished job is refused; retry brings it back")
    func discardWaiting() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let id = try await enqueue(db, options: JobOptions(runAt: Date().addingTimeInterval(3600)))
            try await db.withConnection { try await JobStore.discard(id: id, on: $0) }
            let detail = try #require(try await db.withConnection { try await JobStore.detail(id: id, on: $0) })
            #expect(detail.state == .discarded)
            #expect(detail.finishedAt != nil)
            #expect(detail.errors.map(\.message) == ["discarded by an operator"])
            _ = try await db.withConnection {
                try await JobStore.promoteDue(limit: 10, asOf: Date().addingTimeInterval(7200), on: $0)
            }
            #expect(try await db.jobState(id) == .discarded, "maintenance does not bring it back")
            await #expect(throws: JobQueueError.self) { try await db.withConnection { try await JobStore.discard(id: id, on: $0) } }

            let running = try await enqueue(db)
            _ = try await claimAll(db)
            do {
                try await db.withConnection { try await JobStore.discard(id: running, on: $0) }
                Issue.record("a running job was discarded")
            } catch let error as JobQueueError {
                #expect(error.code == .invalidState && error.message.contains("cancel it"))
            }
            #expect(try await db.jobState(running) == .running)
            do {
                try await db.withConnection { try await JobStore.discard(id: 999_999, on: $0) }
                Issue.record("an unknown job was discarded")
            } catch let error as JobQueueError {
                #expect(error.code == .notFound)
            }
            try await db.withConnection { _ = try await JobStore.retry(id: id, on: $0) }
            #expect(try await db.jobState(id) == .available)
        }
    }

    @Test("Cancelling a running job asks its worker to stop it and leaves it running")
    func cancelRunning() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let id = try await enqueue(db)
            _ = try await claimAll(db)
            let result = try await db.withConnection { try await JobStore.cancel(id: id, on: $0) }
            #expect(result == .requested)
            #expect(try await db.jobState(id) == .running)
            let renewed = try await db.withConnection {
                try await JobStore.renewLeases([JobClaim(jobID: id, attempt: 1)], owner: "test-worker", lease: .seconds(60), on: $0)
            }
            #expect(renewed.map(\.claim.jobID) == [id])
            #expect(renewed.first?.cancelRequested == true)
        }
    }

    @Test("Cancelling a finished job is refused, naming its state", arguments: [JobState.completed, .discarded, .cancelled])
    func cancelFinished(state: JobState) async throws {
        try await TestDatabase.withFreshDatabase { db in
            let id = try await enqueue(db)
            try await finish(db, id, as: state)
            await #expect(throws: JobQueueError(.invalidState, "job \(id) is already \(state.rawValue)")) {
                try await db.withConnection { try await JobStore.cancel(id: id, on: $0) }
            }
            #expect(try await db.jobState(id) == state)
        }
    }

    @Test("Unknown ids are reported as not found")
    func unknownIDs() async throws {
        try await TestDatabase.withFreshDatabase { db in
            await #expect(throws: JobQueueError(.notFound, "no job has id 424242")) {
                try await db.withConnection { try await JobStore.retry(id: 424_242, on: $0) }
            }
            await #expect(throws: JobQueueError(.notFound, "no job has id 424242")) {
                try await db.withConnection { try await JobStore.cancel(id: 424_242, on: $0) }
            }
        }
    }

    @Test("Statistics count jobs by kind and state and measure the oldest available job's wait")
    func statistics() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let empty = try await db.withConnection { try await JobStore.statistics(on: $0) }
            #expect(empty.counts.isEmpty)
            #expect(empty.oldestAvailableAge == nil)

            let first = try await enqueue(db)
            _ = try await enqueue(db)
            _ = try await enqueue(db, options: JobOptions(runAt: Date().addingTimeInterval(3600)))
            _ = try await JobClient().enqueue(RecordEffect(label: "a"), using: db)
            try await finish(db, first, as: .completed)
            try await db.execute("UPDATE jobs SET run_at = now() - interval '90 seconds' WHERE state = 'available'")

            let statistics = try await db.withConnection { try await JobStore.statistics(on: $0) }
            let counts = statistics.counts.map { "\($0.kind) \($0.state.rawValue) \($0.count)" }
            #expect(
                counts == [
                    "\(RecordEffect.kind) available 1",
                    "\(Scripted.kind) available 1",
                    "\(Scripted.kind) scheduled 1",
                    "\(Scripted.kind) completed 1",
                ])
            #expect(statistics.total(.available) == 2)
            #expect(statistics.total(.running) == 0)
            let age = try #require(statistics.oldestAvailableAge)
            #expect(age >= 89 && age < 150)
            #expect(statistics.liveRows >= 0)
            #expect(statistics.deadRows >= 0)
        }
    }
}

import Foundation
import JiebangTesting
import JobQueue
import Postgres
import Testing

@Suite("CronScheduler against the database")
struct CronSchedulerTests {
    static func scheduler(_ db: PostgresClient, catchUp: CronSchedule.CatchUpPolicy) throws -> CronScheduler {
        let schedule = CronSchedule(name: "daily-report", expression: try CronExpression("0 9 * * *"), catchUp: catchUp)
        return CronScheduler(
            client: db, jobs: JobClient(), entries: [CronScheduler.entry(schedule) { _ in Scripted(action: .succeed) }])
    }

    static func jobs(_ db: PostgresClient) async throws -> Int {
        try await db.count("SELECT count(*) FROM jobs WHERE kind = \(Scripted.kind)")
    }

    @Test("A tick enqueues a due slot once; a tick with nothing due creates, locks and enqueues nothing")
    func dueOnce() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let scheduler = try Self.scheduler(db, catchUp: .latest)
            #expect(try await scheduler.tickOnce(at: try instant("2024-06-01T08:30:00+08:00")).isEmpty)
            #expect(try await db.count("SELECT count(*) FROM cron_schedules") == 0)

            let slot = try instant("2024-06-01T09:00:00+08:00")
            #expect(try await scheduler.tickOnce(at: try instant("2024-06-01T09:00:30+08:00")) == ["daily-report": [slot]])
            #expect(try await Self.jobs(db) == 1)

            for time in ["2024-06-01T09:00:40+08:00", "2024-06-01T15:00:00+08:00"] {
                #expect(try await scheduler.tickOnce(at: try instant(time)).isEmpty)
            }
            #expect(try await Self.jobs(db) == 1)
            // No tick with nothing due took the schedule's row lock (a lock leaves its transaction in xmax).
            #expect(try await db.count("SELECT xmax::text::bigint FROM cron_schedules WHERE name = 'daily-report'") == 0)
        }
    }

    @Test("A last slot moved back by hand is read at the next tick, which catches up the missed slots")
    func movedBack() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let scheduler = try Self.scheduler(db, catchUp: .all(limit: 10))
            let today = try instant("2024-06-03T09:00:00+08:00")
            #expect(try await scheduler.tickOnce(at: try instant("2024-06-03T09:00:10+08:00")) == ["daily-report": [today]])
            #expect(try await scheduler.tickOnce(at: try instant("2024-06-03T10:00:00+08:00")).isEmpty)

            try await db.execute("UPDATE cron_schedules SET last_slot = last_slot - interval '2 days'")
            let yesterday = try instant("2024-06-02T09:00:00+08:00")
            #expect(
                try await scheduler.tickOnce(at: try instant("2024-06-03T10:00:00+08:00")) == ["daily-report": [yesterday, today]])
            // Today's slot was enqueued already: its unique key keeps it once.
            #expect(try await Self.jobs(db) == 2)
            #expect(try await db.count("SELECT count(*) FROM cron_schedules WHERE last_slot = \(today)") == 1)
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Logging
import Postgres
import Testing

@testable import JiebangHTTP
@testable import JobQueue

@Suite("The operators' queue dashboard")
struct QueuePageTests {
    @Test("An administrator sees a discarded job with its arguments and errors, retries it, and cannot retry it twice; others are kept out")
    func retryDiscarded() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let admin = try #require(fixture.tokens["admin"])
            let id = try await db.withConnection { conn in
                let inserted = try await JobStore.insert(
                    .init(kind: "webhook.deliver", arguments: #"{"delivery":42,"url":"<b>x</b>"}"#, options: JobOptions(maxAttempts: 3)),
                    on: conn)
                try await conn.execute(
                    """
                    UPDATE jobs SET state = 'discarded', attempt = 3, finished_at = now(),
                           errors = '[{"attempt": 3, "at": "2026-12-01T01:00:00Z", "message": "connection refused <script>"}]'
                    WHERE id = \(inserted.id)
                    """)
                return inserted.id
            }
            try await fixture.application().test(.router) { client in
                let list = try await ExpertPageTests.page(client, .get, "/admin/jobs?state=discarded", token: admin)
                #expect(list.status == .ok)
                #expect(list.html.contains("<a href=\"/admin/jobs/\(id)\">\(id)</a>"))
                #expect(list.html.contains("connection refused &lt;script&gt;"))
                #expect(list.html.contains("<option value=\"discarded\" selected>已放弃</option>"))

                let page = try await ExpertPageTests.page(client, .get, "/admin/jobs/\(id)", token: admin)
                #expect(page.status == .ok)
                #expect(page.html.contains("&quot;url&quot; : &quot;&lt;b&gt;x&lt;/b&gt;&quot;"))
                #expect(page.html.contains(">重试</button>"))
                #expect(!page.html.contains(">取消</button>"))

                let forged = try await ExpertPageTests.page(client, .post, "/admin/jobs/\(id)/retry", token: admin, form: [])
                #expect(forged.status == .forbidden)
                let csrf = ExpertPageTests.csrf(admin)
                let retried = try await ExpertPageTests.page(client, .post, "/admin/jobs/\(id)/retry", token: admin, form: [("csrf", csrf)])
                #expect(retried.status == .seeOther)
                #expect(retried.headers[.location] == "/admin/jobs/\(id)?done=retried")
                let state = try await db.withConnection { conn in
                    try await conn.query("SELECT state::text, max_attempts FROM jobs WHERE id = \(id)").first?.decode((String, Int).self)
                }
                #expect(state?.0 == "available")
                #expect(state?.1 == 4)
                let twice = try await ExpertPageTests.page(client, .post, "/admin/jobs/\(id)/retry", token: admin, form: [("csrf", csrf)])
                #expect(twice.status == .conflict)
                #expect(twice.html.contains("未能重试"))
                let waiting = try await ExpertPageTests.page(client, .get, "/admin/jobs/\(id)", token: admin)
                #expect(waiting.html.contains(">放弃</button>"))
                let discarded = try await ExpertPageTests.page(
                    client, .post, "/admin/jobs/\(id)/discard", token: admin, form: [("csrf", csrf)])
                #expect(discarded.headers[.location] == "/admin/jobs/\(id)?done=discarded")
                let gaveUp = try await db.withConnection { conn in
                    try await conn.query("SELECT state::text FROM jobs WHERE id = \(id)").first?.decode(String.self)
                }
                #expect(gaveUp == "discarded")
                let again = try await ExpertPageTests.page(client, .post, "/admin/jobs/\(id)/discard", token: admin, form: [("csrf", csrf)])
                #expect(again.status == .conflict)
                #expect(again.html.contains("未能放弃"))
                _ = try await ExpertPageTests.page(client, .post, "/admin/jobs/\(id)/retry", token: admin, form: [("csrf", csrf)])
                let cancelled = try await ExpertPageTests.page(
                    client, .post, "/admin/jobs/\(id)/cancel", token: admin, form: [("csrf", csrf)])
                #expect(cancelled.headers[.location] == "/admin/jobs/\(id)?done=cancelled")
                let missing = try await ExpertPageTests.page(
                    client, .post, "/admin/jobs/999999/retry", token: admin, form: [("csrf", csrf)])
                #expect(missing.status == .notFound)

                let anonymous = try await ExpertPageTests.page(client, .get, "/admin/jobs", token: nil)
                #expect(anonymous.status == .found)
                #expect(anonymous.headers[.location] == "/sign-in?next=%2Fadmin%2Fjobs")
                let publisher = try await ExpertPageTests.page(client, .get, "/admin/jobs/\(id)", token: fixture.tokens["publisher"])
                #expect(publisher.status == .forbidden)
                let steal = try await ExpertPageTests.page(
                    client, .post, "/admin/jobs/\(id)/retry", token: fixture.tokens["publisher"],
                    form: [("csrf", ExpertPageTests.csrf(fixture.tokens["publisher"]!))])
                #expect(steal.status == .forbidden)
            }
        }
    }

    @Test("The dashboard draws the last hour's completions and start latency with their figures, and each schedule's last and next slot")
    func sparklinesAndSchedules() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let admin = try #require(fixture.tokens["admin"])
            try await db.withConnection { conn in
                for index in 0..<5 {
                    let job = try await JobStore.insert(.init(kind: "test.done", arguments: "{}", options: JobOptions()), on: conn)
                    // Three finished two minutes ago after waiting 4 s; two in the current minute after waiting 1 s.
                    let ago = index < 3 ? 120 : 0
                    let wait = index < 3 ? 4 : 1
                    try await conn.execute(
                        """
                        UPDATE jobs SET state = 'completed', attempt = 1,
                               run_at = now() - make_interval(secs => \(ago + wait)::int),
                               attempted_at = now() - make_interval(secs => \(ago)::int), finished_at = now() - make_interval(secs => \(ago)::int)
                        WHERE id = \(job.id)
                        """)
                }
                try await conn.execute(
                    "INSERT INTO cron_schedules (name, last_slot) VALUES ('reminders.test', '2026-12-01T02:00:00Z')")
            }
            let minutes = try await db.withConnection { try await JobStore.activity(minutes: 60, on: $0) }
            #expect(minutes.count == 60)
            #expect(minutes.last?.minutesAgo == 0 && minutes.last?.completed == 2)
            #expect(minutes[57].completed == 3 && minutes[57].started == 3)
            #expect(abs(minutes[57].meanWaitSeconds - 4) < 0.5)
            let hourly = try CronExpression("0 * * * *")
            let application = buildApplication(
                configuration: HTTPConfiguration(), database: db, passwordHasher: .fastForTests,
                cronSchedules: [
                    CronSchedule(name: "reminders.test", expression: hourly), CronSchedule(name: "never.run", expression: hourly),
                ],
                logger: Logger(label: "test"))
            try await application.test(.router) { client in
                let page = try await ExpertPageTests.page(client, .get, "/admin/jobs", token: admin)
                #expect(page.status == .ok)
                #expect(page.html.contains("最近 60 分钟完成 5 个，最多 3 个/分钟，本分钟 2 个"))
                #expect(page.html.contains("5 次执行从到期到开始平均等待 2.80 秒，最慢的一分钟平均 4.00 秒"))
                #expect(page.html.contains("<polyline"))
                let next = try #require(CronSchedule(name: "x", expression: hourly).nextSlot(after: Date()))
                #expect(page.html.contains("<td>reminders.test</td><td><code>0 * * * *</code></td><td><time>2026-12-01 10:00</time></td>"))
                #expect(page.html.contains("<time class=\"next-slot\">\(PageFormat.dateTime(next))</time>"))
                #expect(page.html.contains("<td>never.run</td><td><code>0 * * * *</code></td><td><time>尚未排入</time></td>"))
            }
        }
    }
}

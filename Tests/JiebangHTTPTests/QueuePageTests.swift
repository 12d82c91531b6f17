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
}

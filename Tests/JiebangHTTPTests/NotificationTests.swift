import Foundation
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Notifications and reminder scans")
struct NotificationTests {
    /// A world with one lead unit holding a draft bid on one challenge, and the challenge's deadline.
    static func draftOnChallenge(_ db: PostgresClient) async throws -> (BidWorld, bid: Int, deadline: Date) {
        let world = try await BidWorld.make(db, leads: 1, partners: 1, challenges: 1)
        let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
        let deadline = try await db.query("SELECT application_deadline FROM challenges WHERE id = \(world.challenges[0])")
            .first!.decode(Date.self)
        return (world, bid, deadline)
    }

    static func scan(_ db: PostgresClient, at moment: Date) async throws -> ReminderScan.Outcome {
        try await db.withTransaction { try await ReminderScan.applicationDeadlines.run(at: moment, on: $0) }
    }

    @Test("A deadline scan run by two transactions at once and then again writes each reminder once; a late run still sends T-1")
    func scanOnce() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (world, _, deadline) = try await Self.draftOnChallenge(db)
            let weekBefore = deadline - 5 * 86_400
            #expect(try await Self.scan(db, at: deadline - 8 * 86_400).created == 0)
            async let first = Self.scan(db, at: weekBefore)
            async let second = Self.scan(db, at: weekBefore)
            let outcomes = try await [first, second]
            #expect(outcomes.map(\.created).reduce(0, +) == 1)
            #expect(outcomes.map { $0.created + $0.alreadySent } == [1, 1])
            let again = try await Self.scan(db, at: weekBefore + 600)
            #expect(again == ReminderScan.Outcome(created: 0, alreadySent: 1, muted: 0))
            // Run late: six hours before the deadline, only the T-1 reminder is due.
            #expect(try await Self.scan(db, at: deadline - 6 * 3_600).created == 1)
            let rows = try await db.query(
                "SELECT occasion, subject, title FROM notifications WHERE user_id = \(world.leads[0].userID) ORDER BY id"
            ).decode((String, String, String).self)
            #expect(rows.map(\.0) == ["application_deadline.t7", "application_deadline.t1"])
            #expect(rows.allSatisfy { $0.1 == "challenge:\(world.challenges[0])" })
            #expect(rows[1].2.contains("今天") || rows[1].2.contains("明天"))
            // Nobody else was told: the partner has no draft of its own.
            #expect(try await db.query("SELECT count(*) FROM notifications WHERE occasion LIKE 'application_deadline%'").first?.decode(Int.self) == 2)
            // After the deadline nothing is due.
            #expect(try await Self.scan(db, at: deadline + 60).created == 0)
        }
    }

    @Test("A submitted bid is not reminded, and a muted optional reminder is counted and not written")
    func submittedAndMuted() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (world, bid, deadline) = try await Self.draftOnChallenge(db)
            try await db.execute(
                "INSERT INTO notification_mutes (user_id, occasion) VALUES (\(world.leads[0].userID), 'application_deadline.t7')")
            #expect(try await Self.scan(db, at: deadline - 3 * 86_400) == ReminderScan.Outcome(created: 0, alreadySent: 0, muted: 1))
            _ = try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0) }
            #expect(try await Self.scan(db, at: deadline - 3_600) == ReminderScan.Outcome(created: 0, alreadySent: 0, muted: 0))
            // The database skips a muted occasion whoever writes it.
            try await db.execute(
                """
                INSERT INTO notifications (user_id, occasion, subject, title, body)
                VALUES (\(world.leads[0].userID), 'application_deadline.t7', 'challenge:0', 't', 'b')
                """)
            #expect(try await db.query("SELECT count(*) FROM notifications WHERE occasion LIKE 'application_deadline%'").first?.decode(Int.self) == 0)
        }
    }

    @Test("A mandatory occasion cannot be muted, in Swift and in the database")
    func mandatoryNotMuted() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 0, challenges: 0)
            let user = world.leads[0].userID
            let refused = await #expect(throws: DomainError.self) {
                try await db.withTransaction { try await NotificationStore.mute("bid.returned", for: user, on: $0) }
            }
            #expect(refused?.description.contains("mandatory") == true)
            let raw = await #expect(throws: PostgresError.self) {
                try await db.execute("INSERT INTO notification_mutes (user_id, occasion) VALUES (\(user), 'bid.invited')")
            }
            #expect(raw?.constraint == "notification_mutes_optional")
            try await db.withTransaction { try await NotificationStore.mute("application_deadline.t1", for: user, on: $0) }
            let flip = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE notification_occasions SET mandatory = true WHERE occasion = 'application_deadline.t1'")
            }
            #expect(flip?.constraint == "notification_mutes_optional")
        }
    }

    @Test("A return and an invitation notify their units in the event's transaction; a rolled-back return notifies nobody")
    func eventNotices() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let (world, bid, _) = try await Self.draftOnChallenge(db)
            let partnerNotices = try await db.query(
                "SELECT occasion, subject FROM notifications WHERE user_id = \(world.partners[0].userID)"
            ).decode((String, String).self)
            #expect(partnerNotices.map(\.0) == ["bid.invited"])
            #expect(partnerNotices.map(\.1) == ["bid:\(bid)"])
            _ = try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[0].actor, on: $0) }
            let lanzhou = try await db.withConnection {
                try await AccountStore.authenticate(AccessToken(value: world.fixture.tokens["lanzhou"]!), on: $0)!
            }
            struct Abandon: Error {}
            await #expect(throws: Abandon.self) {
                try await db.withTransaction { tx in
                    _ = try await BidReview.decide(bidID: bid, .return, opinion: "请补充中试数据", by: lanzhou, on: tx)
                    throw Abandon()
                }
            }
            let lead = world.leads[0].userID
            #expect(try await db.query("SELECT count(*) FROM notifications WHERE user_id = \(lead)").first?.decode(Int.self) == 0)
            _ = try await db.withTransaction { try await BidReview.decide(bidID: bid, .return, opinion: "请补充中试数据", by: lanzhou, on: $0) }
            let returned = try await db.query(
                "SELECT occasion, subject, body FROM notifications WHERE user_id = \(lead)"
            ).decode((String, String, String).self)
            #expect(returned.map(\.0) == ["bid.returned"])
            #expect(returned.first?.1 == "bid:\(bid):v1")
            #expect(returned.first?.2.contains("请补充中试数据") == true)
        }
    }

    @Test("The inbox shows only one's own notifications, newest first in pages, with an unread count and read marks")
    func inbox() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let user = try await db.query("SELECT id FROM users WHERE login = 'admina'").first!.decode(Int.self)
            let other = try await db.query("SELECT id FROM users WHERE login = 'adminb'").first!.decode(Int.self)
            for index in 1...3 {
                try await db.execute(
                    "INSERT INTO notifications (user_id, occasion, subject, title, body) VALUES (\(user), 'bid.invited', \("bid:\(index)"), '邀请', '正文')")
            }
            let foreign = try await db.query(
                "INSERT INTO notifications (user_id, occasion, subject, title, body) VALUES (\(other), 'bid.invited', 'bid:9', '邀请', '正文') RETURNING id"
            ).first!.decode(Int.self)
            let rewrite = await #expect(throws: PostgresError.self) {
                try await db.execute("UPDATE notifications SET body = 'changed' WHERE id = \(foreign)")
            }
            #expect(rewrite?.constraint == "notifications_as_sent", "\(String(describing: rewrite))")
            try await fixture.application().test(.router) { client in
                let first = try await client.call(.get, "/v1/notifications?limit=2", as: "adminA", fixture: fixture)
                #expect(first.status == .ok)
                let items = first.object["items"] as? [[String: Any]] ?? []
                #expect(items.map { $0["subject"] as? String } == ["bid:3", "bid:2"])
                #expect(items.first?["mandatory"] as? Bool == true)
                let next = try #require(first.object["next"] as? Int)
                let second = try await client.call(.get, "/v1/notifications?limit=2&before=\(next)", as: "adminA", fixture: fixture)
                #expect((second.object["items"] as? [[String: Any]])?.map { $0["subject"] as? String } == ["bid:1"])
                #expect(second.object["next"] == nil)
                let count = try await client.call(.get, "/v1/notifications/unread-count", as: "adminA", fixture: fixture)
                #expect(count.object["unread"] as? Int == 3)
                let id = try #require(items.first?["id"] as? Int)
                let read = try await client.call(.post, "/v1/notifications/\(id)/read", as: "adminA", fixture: fixture)
                #expect(read.status == .ok)
                #expect(read.object["readAt"] is String)
                #expect(try await client.call(.post, "/v1/notifications/\(id)/read", as: "adminA", fixture: fixture).status == .ok)
                let unread = try await client.call(.get, "/v1/notifications?unread=true", as: "adminA", fixture: fixture)
                #expect((unread.object["items"] as? [[String: Any]])?.count == 2)
                #expect(try await client.call(.post, "/v1/notifications/\(foreign)/read", as: "adminA", fixture: fixture).status == .notFound)
                let bad = try await client.call(.get, "/v1/notifications?unread=maybe&limit=0", as: "adminA", fixture: fixture)
                #expect(bad.status == .badRequest)
                #expect(bad.problemFields == ["unread", "limit"])
                let mandatory = try await client.call(.put, "/v1/notifications/mutes/bid.invited", as: "adminA", fixture: fixture)
                #expect(mandatory.status == .conflict)
                let unknown = try await client.call(.put, "/v1/notifications/mutes/nothing", as: "adminA", fixture: fixture)
                #expect(unknown.status == .notFound)
                #expect(try await client.call(.put, "/v1/notifications/mutes/application_deadline.t1", as: "adminA", fixture: fixture).status == .noContent)
                let mutes = try await client.call(.get, "/v1/notifications/mutes", as: "adminA", fixture: fixture)
                #expect(mutes.object["occasions"] as? [String] == ["application_deadline.t1"])
            }
        }
    }

    @Test("Deadlines read in Asia/Shanghai: 00:30 local is tomorrow for a server at 17:00 UTC")
    func shanghaiDays() throws {
        let server = try #require(ISO8601DateFormatter().date(from: "2026-12-04T17:00:00Z"))
        let deadline = try #require(ISO8601DateFormatter().date(from: "2026-12-06T00:30:00+08:00"))
        #expect(Shanghai.relativeDay(from: server, to: deadline) == "明天")
        #expect(Shanghai.text(deadline) == "2026年12月6日 00:30")
        let sameDay = try #require(ISO8601DateFormatter().date(from: "2026-12-05T23:59:00+08:00"))
        #expect(Shanghai.relativeDay(from: server, to: sameDay) == "今天")
    }

    @Test("Every occasion has a template whose placeholders the senders fill, and the database knows the same occasions")
    func templates() async throws {
        for occasion in Occasion.allCases {
            let template = NotificationTemplate.of(occasion)
            #expect(!template.title.isEmpty && !template.body.isEmpty, "\(occasion)")
            let values = ["challenge": "挑战", "deadline": "2026年12月6日 00:30", "days": "5", "when": "明天", "bid": "7", "lead": "兰州", "opinion": "意见",
                "round": "第一轮评审", "count": "3", "seats": "2", "alternates": "1", "year": "2026",
                "attempt": "1", "milestone": "中试线建成", "position": "1", "programme": "2026年揭榜挂帅",
                "chain": "新材料", "need": "稀土永磁材料的低成本制备工艺", "confirmed": "2026年6月5日 09:00",
            ]
            #expect(throws: Never.self) { try template.render(values) }
        }
        #expect(throws: NotificationTemplate.MissingValue(name: "challenge")) { try NotificationTemplate.of(.bidInvited).render([:]) }
        try await TestDatabase.withFreshDatabase { db in
            let rows = try await db.query("SELECT occasion, mandatory FROM notification_occasions ORDER BY occasion").decode((String, Bool).self)
            #expect(Dictionary(uniqueKeysWithValues: rows) == Dictionary(uniqueKeysWithValues: Occasion.allCases.map { ($0.rawValue, $0.isMandatory) }))
        }
    }
}

import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Milestone reminders")
struct MilestoneReminderTests {
    @Test("A milestone not yet submitted is reminded seven days before it is due and once when overdue (end of its day, Asia/Shanghai); a submitted one is not")
    func milestones() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ProjectTests.awarded(db, bids: 1)
            let project = try await db.withTransaction {
                try await ProjectStore.create(ProjectTests.input(bid: world.bidIDs[0]), by: world.publisher, on: $0).id
            }
            func at(_ text: String) throws -> Date { try #require(ISO8601DateFormatter().date(from: text)) }
            func scan(_ text: String) async throws -> ReminderScan.Outcome {
                let moment = try at(text)
                return try await db.withTransaction { try await ReminderScan.milestones.run(at: moment, on: $0) }
            }
            // Milestone 1 is due on 2027-12-31: its day ends at 2028-01-01 00:00 in Shanghai.
            #expect(try await scan("2027-12-23T23:59:00+08:00") == .init(created: 0, alreadySent: 0, muted: 0))
            #expect(try await scan("2027-12-24T00:00:00+08:00") == .init(created: 1, alreadySent: 0, muted: 0))
            #expect(try await scan("2027-12-31T23:59:00+08:00") == .init(created: 0, alreadySent: 1, muted: 0))
            #expect(try await scan("2028-01-01T00:00:00+08:00") == .init(created: 1, alreadySent: 0, muted: 0))
            let concurrent = try await withThrowingTaskGroup(of: ReminderScan.Outcome.self) { group in
                for _ in 0..<4 { group.addTask { try await scan("2028-01-02T09:00:00+08:00") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(concurrent.map(\.created).reduce(0, +) == 0)
            let told = try await db.query(
                "SELECT user_id, occasion FROM notifications WHERE occasion LIKE 'milestone.%' ORDER BY id"
            ).decode((Int, String).self)
            #expect(told.map(\.0) == [world.bids.leads[0].userID, world.bids.leads[0].userID])
            #expect(told.map(\.1) == ["milestone.due", "milestone.overdue"])
            _ = try await db.withTransaction {
                try await ProjectStore.submitMilestone(projectID: project, position: 1, by: world.bids.leads[0].actor, on: $0)
            }
            try await db.execute("DELETE FROM notifications WHERE occasion LIKE 'milestone.%'")
            #expect(try await scan("2028-01-03T09:00:00+08:00") == .init(created: 0, alreadySent: 0, muted: 0))
        }
    }

    @Test("Three days before a programme's recommendation window closes, each recommender of a city with undecided bids is reminded once")
    func recommendations() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 2)
            for index in 0..<2 {
                let bid = try await world.consortium(lead: world.leads[index], partner: world.partners[index], challenge: world.challenges[0])
                _ = try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: world.leads[index].actor, on: $0) }
            }
            let closes = try await db.query(
                "UPDATE programmes SET recommendation_closes_at = application_closes_at + interval '10 days' WHERE id = \(world.programme) RETURNING recommendation_closes_at"
            ).first!.decode(Date.self)
            func scan(_ moment: Date) async throws -> ReminderScan.Outcome {
                try await db.withTransaction { try await ReminderScan.recommendations.run(at: moment, on: $0) }
            }
            #expect(try await scan(closes - 3 * 86_400 - 60) == .init(created: 0, alreadySent: 0, muted: 0))
            #expect(try await scan(closes - 3 * 86_400) == .init(created: 1, alreadySent: 0, muted: 0))
            #expect(try await scan(closes - 60) == .init(created: 0, alreadySent: 1, muted: 0))
            #expect(try await scan(closes) == .init(created: 0, alreadySent: 0, muted: 0))
            let told = try await db.query(
                "SELECT u.login, n.body FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.occasion = 'recommendation.due'"
            ).decode((String, String).self)
            #expect(told.map(\.0) == ["lanzhou"])
            #expect(told.first?.1.contains("2项") == true)
            let refused = await ReviewRoundTests.violation {
                try await db.execute("UPDATE programmes SET recommendation_closes_at = application_closes_at WHERE id = \(world.programme)")
            }
            #expect(refused == "programmes_recommendation_after_application")
        }
    }
}

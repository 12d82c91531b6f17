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
}

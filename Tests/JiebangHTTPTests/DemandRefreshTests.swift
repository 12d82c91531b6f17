import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// 需求库每半年更新 (seed 004): demands confirmed or closed by their unit each half year; unconfirmed ones lapse.
@Suite("The demand pool's half-yearly refresh")
struct DemandRefreshTests {
    static func file(_ lead: BidWorld.Person, need: String, _ db: PostgresClient) async throws -> Int {
        try await db.withTransaction {
            try await DemandFiling.file(
                .init(
                    unitID: lead.unitID, industryChain: "新材料", need: need, contactName: "王工", contactPhone: "0931-1234567",
                    contactEmail: "wang@example.com"), by: lead.actor, on: $0
            ).id
        }
    }

    @Test(
        "Its unit confirms a demand, which starts its half year again and reopens a lapsed one; closing is final; another unit gets 404, as for a missing id"
    )
    func confirmAndClose() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2)
            let lead = world.leads[0]
            let id = try await Self.file(lead, need: "稀土永磁材料的低成本制备工艺", db)
            let filed = try await db.withConnection { try await DemandFiling.demand(id: id, for: lead.actor, on: $0) }
            #expect(filed.status == "open")
            #expect(abs(filed.refreshDueAt.timeIntervalSince(filed.confirmedAt) - 183 * 86_400) < 3 * 86_400)

            try await db.execute("UPDATE demands SET confirmed_at = now() - interval '7 months' WHERE id = \(id)")
            _ = try await db.withTransaction { try await ReminderScan.demandRefresh.run(at: Date(), on: $0) }
            let lapsed = try await db.withConnection { try await DemandFiling.demand(id: id, for: lead.actor, on: $0) }
            #expect(lapsed.status == "lapsed")
            #expect(lapsed.lapsedAt != nil)

            let confirmed = try await db.withTransaction { try await DemandRefresh.confirm(id: id, by: lead.actor, on: $0) }
            #expect(confirmed.status == "open")
            #expect(confirmed.lapsedAt == nil)
            #expect(confirmed.confirmedAt > lapsed.confirmedAt)
            #expect(confirmed.revision > lapsed.revision)

            let other = world.leads[1].actor
            let hidden = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction { try await DemandRefresh.confirm(id: id, by: other, on: $0) }
            }
            let missing = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction { try await DemandRefresh.confirm(id: 2_000_000_000, by: other, on: $0) }
            }
            #expect(hidden == .notFound("no demand has id \(id)"))
            #expect(missing == .notFound("no demand has id 2000000000"))

            let closed = try await db.withTransaction { try await DemandRefresh.close(id: id, by: lead.actor, on: $0) }
            #expect(closed.status == "closed")
            let again = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction { try await DemandRefresh.confirm(id: id, by: lead.actor, on: $0) }
            }
            #expect(again == .conflict(field: "status", message: "demand \(id) is closed; file a new one instead"))
            let audit = try await db.query(
                "SELECT action FROM audit_log WHERE entity = 'demand' AND entity_id = \(String(id)) ORDER BY id"
            ).decode(String.self)
            #expect(audit == ["demand.file", "demand.confirm", "demand.close"])
        }
    }

    @Test(
        "Changing a demand's text confirms it too and reopens a lapsed one; an old revision is stale and a bad field is named, with nothing written"
    )
    func changeConfirms() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1)
            let lead = world.leads[0]
            let id = try await Self.file(lead, need: "稀土永磁材料的低成本制备工艺", db)
            try await db.execute("UPDATE demands SET confirmed_at = now() - interval '7 months' WHERE id = \(id)")
            _ = try await db.withTransaction { try await ReminderScan.demandRefresh.run(at: Date(), on: $0) }
            let lapsed = try await db.withConnection { try await DemandFiling.demand(id: id, for: lead.actor, on: $0) }
            #expect(lapsed.status == "lapsed")
            let change = DemandRefresh.Change(
                industryChain: "新材料", need: "稀土永磁材料的低成本、低能耗制备工艺", contactName: "王工", contactPhone: "0931-1234567",
                contactEmail: "wang@example.com")
            let stale = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction {
                    try await DemandRefresh.change(id: id, change, ifRevision: lapsed.revision - 1, by: lead.actor, on: $0)
                }
            }
            #expect(stale == .stale(current: lapsed.revision))
            var bad = change
            bad.contactEmail = "not an address"
            let invalid = await #expect(throws: DomainError.self) {
                _ = try await db.withTransaction {
                    try await DemandRefresh.change(id: id, bad, ifRevision: lapsed.revision, by: lead.actor, on: $0)
                }
            }
            #expect("\(String(describing: invalid))".contains("contactEmail"))
            let unchanged = try await db.withConnection { try await DemandFiling.demand(id: id, for: lead.actor, on: $0) }
            #expect(unchanged == lapsed)
            let changed = try await db.withTransaction {
                try await DemandRefresh.change(id: id, change, ifRevision: lapsed.revision, by: lead.actor, on: $0)
            }
            #expect(changed.need == "稀土永磁材料的低成本、低能耗制备工艺")
            #expect(changed.status == "open")
            #expect(changed.confirmedAt > lapsed.confirmedAt)
        }
    }

    @Test("The database refuses to reopen a closed demand or to lapse one before its six months, whoever writes the row")
    func databaseRules() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1)
            let id = try await Self.file(world.leads[0], need: "高温合金叶片的精密铸造", db)
            let early = await ReviewRoundTests.violation {
                try await db.execute("UPDATE demands SET status = 'lapsed', lapsed_at = now() WHERE id = \(id)")
            }
            #expect(early == "demands_lapse_when_due")
            let halfClosed = await ReviewRoundTests.violation {
                try await db.execute("UPDATE demands SET status = 'closed' WHERE id = \(id)")
            }
            #expect(halfClosed == "demands_closed_at")
            try await db.execute("UPDATE demands SET status = 'closed', closed_at = now() WHERE id = \(id)")
            let reopened = await ReviewRoundTests.violation {
                try await db.execute("UPDATE demands SET status = 'open', closed_at = NULL WHERE id = \(id)")
            }
            #expect(reopened == "demands_closed_final")
            // The same rule reaches an API caller as a named 409 when a close races a confirm.
            let refused = await #expect(throws: DomainError.self) {
                _ = try await ConstraintCatalog.translating {
                    try await db.execute("UPDATE demands SET remarks = 'x' WHERE id = \(id)")
                }
            }
            #expect(refused == .conflict(field: "status", message: "the demand is closed; file a new one instead"))
        }
    }

    @Test(
        "Thirty days before a demand lapses its unit's people are reminded once; then it lapses once and they are told once, however many scans run at once"
    )
    func remindThenLapseOnce() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2)
            let due = try await Self.file(world.leads[0], need: "氢燃料电池双极板的批量成形", db)
            let fresh = try await Self.file(world.leads[1], need: "工业机器人减速器的国产替代", db)
            func scan() async throws -> ReminderScan.Outcome {
                try await db.withTransaction { try await ReminderScan.demandRefresh.run(at: Date(), on: $0) }
            }
            // 5 months and 10 days after its confirmation: inside the last thirty days.
            try await db.execute("UPDATE demands SET confirmed_at = now() - interval '5 months 10 days' WHERE id = \(due)")
            #expect(try await scan() == .init(created: 1, alreadySent: 0, muted: 0))
            #expect(try await scan() == .init(created: 0, alreadySent: 1, muted: 0))

            // Its six months are over: four scans at once lapse it once and tell its unit once.
            try await db.execute("UPDATE demands SET confirmed_at = now() - interval '6 months 1 day' WHERE id = \(due)")
            let concurrent = try await withThrowingTaskGroup(of: ReminderScan.Outcome.self) { group in
                for _ in 0..<4 { group.addTask { try await scan() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(concurrent.map(\.created).reduce(0, +) == 1, "\(concurrent)")
            let told = try await db.query(
                "SELECT user_id, occasion, subject, body FROM notifications WHERE occasion LIKE 'demand.%' ORDER BY id"
            ).decode((Int, String, String, String).self)
            #expect(told.map(\.0).allSatisfy { $0 == world.leads[0].userID })
            #expect(told.map(\.1) == ["demand.refresh_due", "demand.lapsed"])
            #expect(told.allSatisfy { $0.3.contains("氢燃料电池双极板的批量成形") })
            let states = try await db.query("SELECT id, status FROM demands ORDER BY id").decode((Int, String).self)
            #expect(states.map(\.1) == ["lapsed", "open"])
            #expect(states.map(\.0) == [due, fresh])
            #expect(try await scan() == .init(created: 0, alreadySent: 1, muted: 0))
        }
    }
}

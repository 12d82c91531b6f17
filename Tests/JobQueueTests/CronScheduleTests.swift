import Foundation
import JobQueue
import Testing

@Suite("CronSchedule")
struct CronScheduleTests {
    static func daily(_ catchUp: CronSchedule.CatchUpPolicy = .latest) throws -> CronSchedule {
        CronSchedule(name: "daily-report", expression: try CronExpression("0 9 * * *"), catchUp: catchUp)
    }

    static let policies: [CronSchedule.CatchUpPolicy] = [.none, .latest, .all(limit: 10)]

    @Test("defaults are Asia/Shanghai, latest catch-up and a one-minute grace period")
    func defaults() throws {
        let schedule = try Self.daily()
        #expect(schedule.timeZone.identifier == "Asia/Shanghai")
        #expect(schedule.catchUp == .latest)
        #expect(schedule.gracePeriod == .seconds(60))
    }

    @Test("a schedule that never ran fires only a slot that is happening now", arguments: policies)
    func neverRan(policy: CronSchedule.CatchUpPolicy) throws {
        let schedule = try Self.daily(policy)
        #expect(schedule.slotsToEnqueue(lastSlot: nil, now: try instant("2024-06-01T09:00:30+08:00")) == [try instant("2024-06-01T09:00:00+08:00")])
        #expect(schedule.slotsToEnqueue(lastSlot: nil, now: try instant("2024-06-01T15:00:00+08:00")).isEmpty)
    }

    @Test("on time, every policy enqueues exactly the slot that just passed", arguments: policies)
    func onTime(policy: CronSchedule.CatchUpPolicy) throws {
        let schedule = try Self.daily(policy)
        let slots = schedule.slotsToEnqueue(lastSlot: try instant("2024-05-31T09:00:00+08:00"), now: try instant("2024-06-01T09:00:05+08:00"))
        #expect(slots == [try instant("2024-06-01T09:00:00+08:00")])
    }

    @Test("nothing is enqueued twice once the latest slot was recorded", arguments: policies)
    func alreadyEnqueued(policy: CronSchedule.CatchUpPolicy) throws {
        let schedule = try Self.daily(policy)
        #expect(schedule.slotsToEnqueue(lastSlot: try instant("2024-06-01T09:00:00+08:00"), now: try instant("2024-06-01T09:00:30+08:00")).isEmpty)
        #expect(schedule.slotsToEnqueue(lastSlot: try instant("2024-06-01T09:00:00+08:00"), now: try instant("2024-06-01T20:00:00+08:00")).isEmpty)
    }

    @Test("after downtime each policy enqueues its share of the missed slots", arguments: [
        (CronSchedule.CatchUpPolicy.none, [String]()),
        (.latest, ["2024-06-01"]),
        (.all(limit: 10), ["2024-05-30", "2024-05-31", "2024-06-01"]),
        (.all(limit: 2), ["2024-05-31", "2024-06-01"]),
        (.all(limit: 0), ["2024-06-01"]),
    ])
    func afterDowntime(policy: CronSchedule.CatchUpPolicy, days: [String]) throws {
        let schedule = try Self.daily(policy)
        let slots = schedule.slotsToEnqueue(lastSlot: try instant("2024-05-29T09:00:00+08:00"), now: try instant("2024-06-01T10:00:00+08:00"))
        #expect(slots == (try days.map { try instant("\($0)T09:00:00+08:00") }))
    }

    @Test("skipping missed slots still enqueues a slot that is on time after downtime")
    func noneAfterDowntimeOnTime() throws {
        let schedule = try Self.daily(.none)
        let slots = schedule.slotsToEnqueue(lastSlot: try instant("2024-05-29T09:00:00+08:00"), now: try instant("2024-06-01T09:00:30+08:00"))
        #expect(slots == [try instant("2024-06-01T09:00:00+08:00")])
    }

    @Test("catching up a minutely schedule after a month takes only the latest slots")
    func longDowntime() throws {
        let schedule = CronSchedule(name: "tick", expression: try CronExpression("* * * * *"), catchUp: .all(limit: 3))
        let now = try instant("2024-06-30T12:00:30+08:00")
        let slots = schedule.slotsToEnqueue(lastSlot: try instant("2024-06-01T00:00:00+08:00"), now: now)
        #expect(slots == [-2, -1, 0].map { try! instant("2024-06-30T12:00:00+08:00").addingTimeInterval(Double($0) * 60) })
    }

    @Test("the next slot and unique key identify a firing by name and UTC minute")
    func nextSlotAndKey() throws {
        let schedule = CronSchedule(name: "december", expression: try CronExpression("0 9 10 12 *"))
        let slot = try #require(schedule.nextSlot(after: try instant("2024-01-01T00:00:00Z")))
        #expect(slot == (try instant("2024-12-10T01:00:00Z")))
        #expect(schedule.uniqueKey(forSlot: slot) == "december@2024-12-10T01:00:00Z")
    }
}

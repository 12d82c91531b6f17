public import Foundation

/// A named periodic job: a cron expression evaluated in a time zone, plus what to do about slots missed during
/// downtime.
///
/// A *slot* is one firing time of the expression, always an exact minute. The slot (together with ``name``) is
/// what makes the unique key of the job enqueued for that firing, so enqueuing the same slot twice is harmless.
///
/// The caller remembers the last slot it enqueued and, on every tick, asks ``slotsToEnqueue(lastSlot:now:)``
/// which slots to enqueue now, then stores the latest returned slot as the new `lastSlot`.
public struct CronSchedule: Sendable, Hashable {
    /// What to do with slots that passed while nothing was enqueuing them.
    public enum CatchUpPolicy: Sendable, Hashable {
        /// Skip missed slots: only a slot that is at most ``CronSchedule/gracePeriod`` old is enqueued.
        case none
        /// Enqueue the most recent missed slot once, however old (the default).
        case latest
        /// Enqueue each missed slot, but at most `limit` of them: the most recent ones (`limit` is at least 1).
        case all(limit: Int)
    }

    /// The default zone for schedules: `Asia/Shanghai` (UTC+8, no DST).
    public static let defaultTimeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3_600)!

    /// The stable task name; part of each firing's unique key.
    public var name: String
    /// When the task fires.
    public var expression: CronExpression
    /// The zone whose wall clock ``expression`` refers to.
    public var timeZone: TimeZone
    /// What to do about slots missed during downtime.
    public var catchUp: CatchUpPolicy
    /// How late a slot may be enqueued and still count as on time rather than missed; used by ``CatchUpPolicy/none``
    /// and when the schedule has never fired.
    public var gracePeriod: Duration

    /// Creates a schedule.
    ///
    /// - Parameters:
    ///   - name: The stable task name.
    ///   - expression: When the task fires.
    ///   - timeZone: The zone of the expression's wall clock; defaults to Asia/Shanghai.
    ///   - catchUp: What to do about missed slots; defaults to ``CatchUpPolicy/latest``.
    ///   - gracePeriod: How late a slot still counts as on time; defaults to one minute.
    public init(
        name: String,
        expression: CronExpression,
        timeZone: TimeZone = CronSchedule.defaultTimeZone,
        catchUp: CatchUpPolicy = .latest,
        gracePeriod: Duration = .seconds(60)
    ) {
        self.name = name
        self.expression = expression
        self.timeZone = timeZone
        self.catchUp = catchUp
        self.gracePeriod = gracePeriod
    }

    /// The first slot strictly after `date`, e.g. to know how long to sleep.
    ///
    /// - Parameter date: The exclusive lower bound.
    /// - Returns: The slot, or `nil` if the expression can never fire.
    public func nextSlot(after date: Date) -> Date? {
        expression.nextFireDate(after: date, in: timeZone)
    }

    /// The slots to enqueue now, ascending, given the last slot already enqueued.
    ///
    /// - With a `lastSlot`, candidate slots are those in `(lastSlot, now]`:
    ///   ``CatchUpPolicy/none`` returns the most recent one only if it is younger than ``gracePeriod``;
    ///   ``CatchUpPolicy/latest`` returns the most recent one; ``CatchUpPolicy/all(limit:)`` returns the most
    ///   recent `limit` ones.
    /// - Without a `lastSlot` (the schedule never fired), the schedule owes nothing for the past: the most recent
    ///   slot `<= now` is returned only if it is younger than ``gracePeriod`` (it is "now"), whatever the policy.
    ///   So a schedule deployed at 15:00 with a 09:00 daily slot first fires at 09:00 the next day.
    ///
    /// - Parameters:
    ///   - lastSlot: The last slot enqueued, or `nil` if none ever was.
    ///   - now: The current time (injected clock).
    /// - Returns: Slots to enqueue, earliest first; empty when nothing is due.
    public func slotsToEnqueue(lastSlot: Date?, now: Date) -> [Date] {
        guard let lastSlot else {
            return onTimeSlot(now: now, after: nil)
        }
        switch catchUp {
        case .none:
            return onTimeSlot(now: now, after: lastSlot)
        case .latest:
            return expression.latestFireDates(from: lastSlot, through: now, in: timeZone, limit: 1)
        case .all(let limit):
            return expression.latestFireDates(from: lastSlot, through: now, in: timeZone, limit: max(limit, 1))
        }
    }

    /// The unique key of the firing at `slot`, e.g. `daily-report@2024-12-10T01:00:00Z`.
    ///
    /// - Parameter slot: A slot returned by ``slotsToEnqueue(lastSlot:now:)``.
    /// - Returns: The schedule name and the slot in UTC ISO 8601.
    public func uniqueKey(forSlot slot: Date) -> String {
        "\(name)@\(slot.formatted(Date.ISO8601FormatStyle()))"
    }

    private func onTimeSlot(now: Date, after lastSlot: Date?) -> [Date] {
        guard let slot = expression.previousFireDate(atOrBefore: now, in: timeZone),
              lastSlot.map({ slot > $0 }) ?? true,
              now.timeIntervalSince(slot) < gracePeriod.timeInterval
        else {
            return []
        }
        return [slot]
    }
}

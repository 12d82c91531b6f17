/// The set of values one cron field allows, as a bitmask over 0...63.
struct CronFieldSet: Hashable, Sendable {
    private(set) var bits: UInt64

    init(bits: UInt64 = 0) {
        self.bits = bits
    }

    init(_ values: some Sequence<Int>) {
        self.init()
        for value in values {
            insert(value)
        }
    }

    var isEmpty: Bool {
        bits == 0
    }

    var values: [Int] {
        (0..<64).filter(contains)
    }

    func contains(_ value: Int) -> Bool {
        (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0
    }

    mutating func insert(_ value: Int) {
        precondition((0..<64).contains(value), "cron field value \(value) outside 0..<64")
        bits |= 1 << UInt64(value)
    }

    /// The smallest member `>= value`, or `nil`.
    func first(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let remaining = bits >> UInt64(max(value, 0))
        guard remaining != 0 else { return nil }
        return max(value, 0) + remaining.trailingZeroBitCount
    }

    /// The largest member `<= value`, or `nil`.
    func last(atOrBefore value: Int) -> Int? {
        guard value >= 0 else { return nil }
        let shift = UInt64(63 - min(value, 63))
        let remaining = bits << shift
        guard remaining != 0 else { return nil }
        return min(value, 63) - remaining.leadingZeroBitCount
    }
}

/// A review-assignment problem: bids, experts with organisation and load cap, sparse affinities,
/// conflicts, the panel size `k`, the number of alternates per bid and the pair cap `q`.
///
/// Affinity is an integer ≥ 0 supplied by the caller (the formula is the caller's); a pair not listed
/// has affinity 0 and is allowed. A conflict forbids the pair whatever its affinity. Bounds, checked by
/// ``init(bids:experts:affinities:conflicts:panelSize:alternates:cap:)``: affinity and load at most
/// 1,000,000, at most 50,000,000 affinities and conflicts, so costs and capacities fit `Int32` and
/// objectives `Int64`.
public struct Instance: Sendable {
    /// A bid to be reviewed.
    public struct Bid: Hashable, Sendable {
        /// The caller's identifier.
        public let id: String
        /// Creates a bid.
        public init(id: String) { self.id = id }
    }

    /// An expert who may review.
    public struct Expert: Hashable, Sendable {
        /// The caller's identifier.
        public let id: String
        /// The expert's organisation: at most one expert per organisation sits on a bid's panel.
        public let organisation: String
        /// The most panels (seats plus alternates) the expert may sit on.
        public let load: Int
        /// Creates an expert.
        public init(id: String, organisation: String, load: Int) {
            self.id = id
            self.organisation = organisation
            self.load = load
        }
    }

    /// The affinity of one expert for one bid.
    public struct Affinity: Hashable, Sendable {
        /// The expert's id.
        public let expert: String
        /// The bid's id.
        public let bid: String
        /// An integer in `0 ... 1_000_000`.
        public let value: Int
        /// Creates an affinity.
        public init(expert: String, bid: String, value: Int) {
            self.expert = expert
            self.bid = bid
            self.value = value
        }
    }

    /// A pair that must not be assigned.
    public struct Conflict: Hashable, Sendable {
        /// The expert's id.
        public let expert: String
        /// The bid's id.
        public let bid: String
        /// Creates a conflict.
        public init(expert: String, bid: String) {
            self.expert = expert
            self.bid = bid
        }
    }

    /// The largest affinity or load accepted.
    public static let maximumValue = 1_000_000
    /// The largest number of affinities or of conflicts accepted.
    public static let maximumPairs = 50_000_000

    /// The bids, in the caller's order (which fixes the solver's iteration order).
    public let bids: [Bid]
    /// The experts, in the caller's order.
    public let experts: [Expert]
    /// `k`: assigned experts per bid.
    public let panelSize: Int
    /// Alternates (替补) per bid, drawn besides the panel.
    public let alternates: Int
    /// `q`: the most probability with which any pair is drawn (assigned or alternate).
    public let cap: Rational
    /// A 64-bit FNV-1a digest of the whole instance, cap included; a draw records it.
    public let fingerprint: UInt64

    let organisationOfExpert: [Int32]
    let organisationCount: Int
    /// Positive, non-conflicting affinities grouped by bid (CSR), experts ascending within a bid.
    let affinityStart: [Int]
    let affinityExpert: [Int32]
    let affinityValue: [Int32]
    /// Conflicts grouped by bid (CSR), experts ascending within a bid.
    let conflictStart: [Int]
    let conflictExpert: [Int32]
    let maximumAffinity: Int

    /// Seats plus alternates per bid.
    public var drawnPerBid: Int { panelSize + alternates }

    /// Checks and indexes an instance.
    /// - Throws: ``ReviewSolverError/invalidInput(_:)`` naming the offending field: duplicate or
    ///   unknown ids, a pair listed twice, a value out of bounds, `k < 1` or `alternates < 0`.
    public init(
        bids: [Bid], experts: [Expert], affinities: [Affinity], conflicts: [Conflict],
        panelSize: Int, alternates: Int = 0, cap: Rational = .one
    ) throws(ReviewSolverError) {
        guard panelSize >= 1, panelSize <= 1_000 else { throw .invalidInput("k must be in 1...1000, got \(panelSize)") }
        guard alternates >= 0, alternates <= 1_000 else { throw .invalidInput("alternates must be in 0...1000, got \(alternates)") }
        guard bids.count <= 10_000_000, experts.count <= 10_000_000 else { throw .invalidInput("at most 10,000,000 bids and experts") }
        guard affinities.count <= Instance.maximumPairs, conflicts.count <= Instance.maximumPairs else {
            throw .invalidInput("at most \(Instance.maximumPairs) affinities and conflicts")
        }
        var bidIndex: [String: Int32] = [:]
        bidIndex.reserveCapacity(bids.count)
        for (index, bid) in bids.enumerated() {
            guard bidIndex.updateValue(Int32(index), forKey: bid.id) == nil else { throw .invalidInput("bids: duplicate id \(bid.id)") }
        }
        var expertIndex: [String: Int32] = [:]
        var organisationIndex: [String: Int32] = [:]
        var organisationOfExpert: [Int32] = []
        expertIndex.reserveCapacity(experts.count)
        organisationOfExpert.reserveCapacity(experts.count)
        for (index, expert) in experts.enumerated() {
            guard expertIndex.updateValue(Int32(index), forKey: expert.id) == nil else {
                throw .invalidInput("experts: duplicate id \(expert.id)")
            }
            guard expert.load >= 0, expert.load <= Instance.maximumValue else {
                throw .invalidInput("experts: load of \(expert.id) must be in 0...\(Instance.maximumValue), got \(expert.load)")
            }
            let next = Int32(organisationIndex.count)
            let organisation = organisationIndex[expert.organisation] ?? next
            if organisation == next { organisationIndex[expert.organisation] = next }
            organisationOfExpert.append(organisation)
        }

        func pairKey(_ expert: String, _ bid: String, field: String) throws(ReviewSolverError) -> UInt64 {
            guard let e = expertIndex[expert] else { throw .invalidInput("\(field): unknown expert \(expert)") }
            guard let b = bidIndex[bid] else { throw .invalidInput("\(field): unknown bid \(bid)") }
            return UInt64(UInt32(b)) << 32 | UInt64(UInt32(e))
        }
        var conflictKeys: [UInt64] = []
        conflictKeys.reserveCapacity(conflicts.count)
        for conflict in conflicts { conflictKeys.append(try pairKey(conflict.expert, conflict.bid, field: "conflicts")) }
        conflictKeys.sort()
        var uniqueConflicts: [UInt64] = []
        uniqueConflicts.reserveCapacity(conflictKeys.count)
        for key in conflictKeys where uniqueConflicts.last != key { uniqueConflicts.append(key) }

        var affinityKeys: [(key: UInt64, value: Int32)] = []
        affinityKeys.reserveCapacity(affinities.count)
        var maximumAffinity = 0
        for affinity in affinities {
            guard affinity.value >= 0, affinity.value <= Instance.maximumValue else {
                throw .invalidInput("affinity: value for (\(affinity.expert), \(affinity.bid)) must be in 0...\(Instance.maximumValue), got \(affinity.value)")
            }
            affinityKeys.append((try pairKey(affinity.expert, affinity.bid, field: "affinity"), Int32(affinity.value)))
        }
        affinityKeys.sort { $0.key < $1.key }
        var affinityStart = [Int](repeating: 0, count: bids.count + 1)
        var affinityExpert: [Int32] = []
        var affinityValue: [Int32] = []
        var conflictCursor = 0
        for (position, entry) in affinityKeys.enumerated() {
            if position > 0, affinityKeys[position - 1].key == entry.key {
                let e = experts[Int(UInt32(truncatingIfNeeded: entry.key))].id
                let b = bids[Int(entry.key >> 32)].id
                throw .invalidInput("affinity: pair (\(e), \(b)) listed twice")
            }
            while conflictCursor < uniqueConflicts.count, uniqueConflicts[conflictCursor] < entry.key { conflictCursor += 1 }
            let conflicted = conflictCursor < uniqueConflicts.count && uniqueConflicts[conflictCursor] == entry.key
            guard entry.value > 0, !conflicted else { continue }
            affinityStart[Int(entry.key >> 32) + 1] += 1
            affinityExpert.append(Int32(truncatingIfNeeded: entry.key))
            affinityValue.append(entry.value)
            maximumAffinity = max(maximumAffinity, Int(entry.value))
        }
        var conflictStart = [Int](repeating: 0, count: bids.count + 1)
        var conflictExpert: [Int32] = []
        conflictExpert.reserveCapacity(uniqueConflicts.count)
        for key in uniqueConflicts {
            conflictStart[Int(key >> 32) + 1] += 1
            conflictExpert.append(Int32(truncatingIfNeeded: key))
        }
        for b in 0..<bids.count {
            affinityStart[b + 1] += affinityStart[b]
            conflictStart[b + 1] += conflictStart[b]
        }

        self.bids = bids
        self.experts = experts
        self.panelSize = panelSize
        self.alternates = alternates
        self.cap = cap
        self.organisationOfExpert = organisationOfExpert
        self.organisationCount = organisationIndex.count
        self.affinityStart = affinityStart
        self.affinityExpert = affinityExpert
        self.affinityValue = affinityValue
        self.conflictStart = conflictStart
        self.conflictExpert = conflictExpert
        self.maximumAffinity = maximumAffinity
        self.fingerprint = Instance.digest(
            bids: bids, experts: experts, panelSize: panelSize, alternates: alternates, cap: cap,
            affinities: affinityKeys, conflicts: uniqueConflicts)
    }

    /// The same instance with another cap `q` (the fingerprint changes with it).
    public func with(cap newCap: Rational) -> Instance {
        Instance(copying: self, cap: newCap, fingerprint: fingerprint ^ Instance.capDigest(cap) ^ Instance.capDigest(newCap))
    }

    private init(copying other: Instance, cap: Rational, fingerprint: UInt64) {
        bids = other.bids
        experts = other.experts
        panelSize = other.panelSize
        alternates = other.alternates
        self.cap = cap
        self.fingerprint = fingerprint
        organisationOfExpert = other.organisationOfExpert
        organisationCount = other.organisationCount
        affinityStart = other.affinityStart
        affinityExpert = other.affinityExpert
        affinityValue = other.affinityValue
        conflictStart = other.conflictStart
        conflictExpert = other.conflictExpert
        maximumAffinity = other.maximumAffinity
    }

    /// The affinity of expert `e` for bid `b` (0 when not listed or conflicted), by binary search.
    func affinity(expert e: Int, bid b: Int) -> Int {
        var low = affinityStart[b]
        var high = affinityStart[b + 1]
        while low < high {
            let middle = (low + high) / 2
            let candidate = Int(affinityExpert[middle])
            if candidate == e { return Int(affinityValue[middle]) }
            if candidate < e { low = middle + 1 } else { high = middle }
        }
        return 0
    }

    /// Whether expert `e` has a conflict with bid `b`, by binary search.
    func isConflict(expert e: Int, bid b: Int) -> Bool {
        var low = conflictStart[b]
        var high = conflictStart[b + 1]
        while low < high {
            let middle = (low + high) / 2
            let candidate = Int(conflictExpert[middle])
            if candidate == e { return true }
            if candidate < e { low = middle + 1 } else { high = middle }
        }
        return false
    }
}

extension Instance {
    /// The affinity of the expert at index `expert` for the bid at index `bid` (0 when not listed or
    /// conflicted).
    public func affinityValue(expert: Int, bid: Int) -> Int { affinity(expert: expert, bid: bid) }

    /// Whether the expert at index `expert` has a conflict with the bid at index `bid`.
    public func isConflicted(expert: Int, bid: Int) -> Bool { isConflict(expert: expert, bid: bid) }
}

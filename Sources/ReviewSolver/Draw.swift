/// One random assignment drawn from a fractional solution: a function of (instance, `q`, seed).
///
/// Each bid's `k + alternates` drawn experts are split uniformly at random into `k` assigned and
/// `alternates` alternates (a Fisher–Yates shuffle with the same generator). A pair is drawn (assigned
/// or alternate) with probability exactly `x ≤ q`, so "assigned or alternate" stays within `q`, and
/// assigned alone with probability `x·k/(k + alternates)`. Alternates count against the experts' loads.
public struct Draw: Hashable, Sendable {
    /// An (expert, bid) pair, by id.
    public struct Pair: Hashable, Sendable {
        /// The expert's id.
        public let expert: String
        /// The bid's id.
        public let bid: String
        /// Creates a pair.
        public init(expert: String, bid: String) {
            self.expert = expert
            self.bid = bid
        }
    }

    /// ``Instance/fingerprint`` of the instance drawn from.
    public let fingerprint: UInt64
    /// The cap `q` of the instance drawn from.
    public let cap: Rational
    /// The seed of the generator.
    public let seed: UInt64
    /// The panels: `k` experts per bid, by bid (input order) then expert (input order).
    public let assignments: [Pair]
    /// The alternates: `alternates` experts per bid, in the same order.
    public let alternates: [Pair]

    /// Creates a draw, for example one read back to be verified.
    public init(fingerprint: UInt64, cap: Rational, seed: UInt64, assignments: [Pair], alternates: [Pair]) {
        self.fingerprint = fingerprint
        self.cap = cap
        self.seed = seed
        self.assignments = assignments
        self.alternates = alternates
    }
}

extension FractionalAssignment {
    /// Draws an integral assignment by dependent rounding with a ``SplitMix64`` seeded with `seed`.
    public func sample(seed: UInt64) -> Draw {
        var generator = SplitMix64(seed: seed)
        var rounding = DependentRounding(self)
        let drawn = rounding.round(using: &generator)
        var assignments: [Draw.Pair] = []
        var alternates: [Draw.Pair] = []
        let panelSize = instance.panelSize
        var panel: [Int] = []
        var start = 0
        while start < pairs.count {
            let bid = pairs[start].bid
            var end = start
            panel.removeAll(keepingCapacity: true)
            while end < pairs.count, pairs[end].bid == bid {
                if drawn[end] { panel.append(pairs[end].expert) }
                end += 1
            }
            if instance.alternates > 0 {
                for i in stride(from: panel.count - 1, to: 0, by: -1) {
                    panel.swapAt(i, Int(generator.uniform(below: UInt64(i + 1))))
                }
            }
            let bidID = instance.bids[bid].id
            for e in panel.prefix(panelSize).sorted() { assignments.append(.init(expert: instance.experts[e].id, bid: bidID)) }
            for e in panel.dropFirst(panelSize).sorted() { alternates.append(.init(expert: instance.experts[e].id, bid: bidID)) }
            start = end
        }
        return Draw(fingerprint: instance.fingerprint, cap: instance.cap, seed: seed, assignments: assignments, alternates: alternates)
    }
}

/// The outcome of ``Instance/verify(_:)``.
public enum DrawVerification: Equatable, Sendable {
    /// Recomputing from the instance and the draw's seed gives the same assignments and alternates.
    case reproduced
    /// The draw was made from another instance or cap (its fingerprint differs).
    case instanceChanged
    /// Same instance, but the seed reproduces other assignments or alternates.
    case resultDiffers
}

extension Instance {
    /// Draws an assignment for this instance, its cap `q` and `seed`.
    /// - Throws: ``ReviewSolverError/infeasible(bids:reason:)`` naming the bids that cannot be staffed.
    public func draw(seed: UInt64) throws(ReviewSolverError) -> Draw {
        try solveFractional().sample(seed: seed)
    }

    /// Recomputes `draw` from this instance and the draw's seed and compares: anyone holding the
    /// instance and the seed can check a published draw.
    /// - Throws: ``ReviewSolverError/infeasible(bids:reason:)`` when the instance has no solution.
    public func verify(_ draw: Draw) throws(ReviewSolverError) -> DrawVerification {
        guard draw.fingerprint == fingerprint, draw.cap == cap else { return .instanceChanged }
        return try self.draw(seed: draw.seed) == draw ? .reproduced : .resultDiffers
    }
}

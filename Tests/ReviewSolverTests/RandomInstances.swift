import ReviewSolver

/// Small random instances for the solver's tests, a function of their seed.
enum RandomInstances {
    /// `bids` bids, `experts` experts in `organisations` organisations, one pair in `positiveOneIn`
    /// with a positive affinity (or 0), `conflictPercent`% conflicts, loads in `loads`.
    static func make(
        seed: UInt64, bids: Int, experts: Int, organisations: Int, panelSize: Int, alternates: Int = 0,
        loads: ClosedRange<Int>, conflictPercent: UInt64 = 10, positiveOneIn: UInt64 = 2, cap: Rational = .one
    ) throws -> Instance {
        var generator = SplitMix64(seed: seed)
        let bidList = (0..<bids).map { Instance.Bid(id: "b\($0)") }
        let expertList = (0..<experts).map { e in
            Instance.Expert(
                id: "e\(e)", organisation: "o\(generator.uniform(below: UInt64(organisations)))",
                load: loads.lowerBound + Int(generator.uniform(below: UInt64(loads.count))))
        }
        var affinities: [Instance.Affinity] = []
        var conflicts: [Instance.Conflict] = []
        for b in 0..<bids {
            for e in 0..<experts {
                if generator.uniform(below: positiveOneIn) == 0 {
                    affinities.append(.init(expert: "e\(e)", bid: "b\(b)", value: Int(generator.uniform(below: 100))))
                }
                if generator.uniform(below: 100) < conflictPercent { conflicts.append(.init(expert: "e\(e)", bid: "b\(b)")) }
            }
        }
        return try Instance(
            bids: bidList, experts: expertList, affinities: affinities, conflicts: conflicts,
            panelSize: panelSize, alternates: alternates, cap: cap)
    }

    /// The best total affinity by trying every panel of every bid, or `nil` when none is feasible.
    static func exhaustiveOptimum(_ instance: Instance, affinity: (Int, Int) -> Int, conflict: (Int, Int) -> Bool) -> Int? {
        let experts = instance.experts
        var remaining = experts.map(\.load)
        var best: Int?
        func panels(for bid: Int) -> [[Int]] {
            var result: [[Int]] = []
            func extend(_ panel: [Int], from start: Int) {
                if panel.count == instance.drawnPerBid {
                    result.append(panel)
                    return
                }
                for e in start..<experts.count
                where !conflict(e, bid) && !panel.contains(where: { experts[$0].organisation == experts[e].organisation }) {
                    extend(panel + [e], from: e + 1)
                }
            }
            extend([], from: 0)
            return result
        }
        let options = (0..<instance.bids.count).map(panels(for:))
        func search(_ bid: Int, _ total: Int) {
            if bid == instance.bids.count {
                best = max(best ?? total, total)
                return
            }
            for panel in options[bid] where panel.allSatisfy({ remaining[$0] > 0 }) {
                for e in panel { remaining[e] -= 1 }
                search(bid + 1, total + panel.reduce(0) { $0 + affinity($1, bid) })
                for e in panel { remaining[e] += 1 }
            }
        }
        search(0, 0)
        return best
    }
}

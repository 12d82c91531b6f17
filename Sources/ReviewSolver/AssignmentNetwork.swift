/// The min-cost flow model of an instance, in units of `1/D` where `q = p/D`.
///
/// Nodes: source → expert (capacity `load·D`) → panel → bid (capacity `(k + alternates)·D`) → sink.
/// A pair arc expert → bid has capacity `p` and cost `A − affinity` (`A` the largest affinity, so
/// costs are ≥ 0; every unit crosses exactly one pair arc, so the shift changes no optimum). The
/// organisation rule puts an (organisation, bid) node with capacity `D` to the bid in front of the
/// pair arcs of an organisation's experts, when the organisation has two or more of them for the bid.
///
/// Aggregated model (the default): only positive-affinity pairs get arcs; every zero-affinity pair is
/// replaced by one pool node (expert → pool, capacity `load·D`; pool → bid, cost `A`). That relaxes
/// the model, so its optimum is at least the true one; the pooled flow is then split into real
/// zero-affinity pairs (largest remaining supply first, skipping conflicts, used organisations and
/// positive pairs; if that greedy split fails, an exact max-flow split). When the split succeeds the
/// result is feasible with the relaxation's objective, hence optimal; when no split exists, the
/// explicit model (an arc per allowed pair) solves the instance.
struct AssignmentNetwork {
    private let instance: Instance
    private let explicit: Bool
    private var network: FlowNetwork
    private var pairExpert: [Int32] = []
    private var pairAffinity: [Int32] = []
    private var pairArc: [Int32] = []
    /// Pair records of bid `b` are `pairStart[b] ..< pairStart[b + 1]`.
    private var pairStart: [Int] = [0]
    private var bidArc: [Int32] = []
    private var poolInArc: [Int32] = []
    private var poolOutArc: [Int32] = []

    private static let source = 0
    private static let sink = 1

    /// Phases of the last solve, for the benchmark.
    var phases: Int { network.phases }
    /// Arcs of the network, for the benchmark.
    var arcCount: Int { network.arcCount }
    /// Nodes of the network, for the benchmark.
    var nodeCount: Int { network.nodeCount }

    init(instance: Instance, explicit: Bool) {
        self.instance = instance
        self.explicit = explicit
        let expertCount = instance.experts.count
        let bidCount = instance.bids.count
        let denominator = instance.cap.denominator
        let pairUnits = instance.cap.numerator
        let seats = instance.drawnPerBid * denominator
        let shift = instance.maximumAffinity
        let expertNode = 2
        let bidNode = 2 + expertCount
        network = FlowNetwork(nodeCount: 2 + expertCount + bidCount + (explicit ? 0 : 1))
        let pool = 2 + expertCount + bidCount
        for (e, expert) in instance.experts.enumerated() where expert.load > 0 {
            network.addArc(from: Self.source, to: expertNode + e, capacity: expert.load * denominator, cost: 0)
        }
        bidArc.reserveCapacity(bidCount)
        for b in 0..<bidCount {
            bidArc.append(Int32(network.addArc(from: bidNode + b, to: Self.sink, capacity: seats, cost: 0)))
        }
        if !explicit {
            poolInArc = [Int32](repeating: -1, count: expertCount)
            for (e, expert) in instance.experts.enumerated() where expert.load > 0 {
                poolInArc[e] = Int32(network.addArc(from: expertNode + e, to: pool, capacity: expert.load * denominator, cost: 0))
            }
            poolOutArc.reserveCapacity(bidCount)
            for b in 0..<bidCount {
                poolOutArc.append(Int32(network.addArc(from: pool, to: bidNode + b, capacity: seats, cost: shift)))
            }
        }
        let byOrganisation = (0..<expertCount).sorted {
            (instance.organisationOfExpert[$0], $0) < (instance.organisationOfExpert[$1], $1)
        }
        var affinityOf = [Int32](repeating: 0, count: expertCount)
        var conflicted = [Bool](repeating: false, count: expertCount)
        var candidates: [(key: UInt64, affinity: Int32)] = []
        for b in 0..<bidCount {
            candidates.removeAll(keepingCapacity: true)
            let positives = instance.affinityStart[b]..<instance.affinityStart[b + 1]
            if explicit {
                for position in positives { affinityOf[Int(instance.affinityExpert[position])] = instance.affinityValue[position] }
                for position in instance.conflictStart[b]..<instance.conflictStart[b + 1] {
                    conflicted[Int(instance.conflictExpert[position])] = true
                }
                for e in byOrganisation where instance.experts[e].load > 0 && !conflicted[e] {
                    candidates.append((Self.key(instance.organisationOfExpert[e], e), affinityOf[e]))
                }
                for position in positives { affinityOf[Int(instance.affinityExpert[position])] = 0 }
                for position in instance.conflictStart[b]..<instance.conflictStart[b + 1] {
                    conflicted[Int(instance.conflictExpert[position])] = false
                }
            } else {
                for position in positives {
                    let e = Int(instance.affinityExpert[position])
                    guard instance.experts[e].load > 0 else { continue }
                    candidates.append((Self.key(instance.organisationOfExpert[e], e), instance.affinityValue[position]))
                }
                candidates.sort { $0.key < $1.key }
            }
            var start = 0
            while start < candidates.count {
                var end = start + 1
                while end < candidates.count, candidates[end].key >> 32 == candidates[start].key >> 32 { end += 1 }
                var head = bidNode + b
                if end - start > 1 {
                    head = network.addNode()
                    network.addArc(from: head, to: bidNode + b, capacity: denominator, cost: 0)
                }
                for candidate in candidates[start..<end] {
                    let e = Int(UInt32(truncatingIfNeeded: candidate.key))
                    let arc = network.addArc(
                        from: expertNode + e, to: head, capacity: pairUnits, cost: shift - Int(candidate.affinity))
                    pairExpert.append(Int32(e))
                    pairAffinity.append(candidate.affinity)
                    pairArc.append(Int32(arc))
                }
                start = end
            }
            pairStart.append(pairExpert.count)
        }
    }

    private static func key(_ organisation: Int32, _ expert: Int) -> UInt64 {
        UInt64(UInt32(organisation)) << 32 | UInt64(UInt32(expert))
    }

    /// Solves the flow and returns the pairs with positive flow, by bid then expert; `nil` when the
    /// aggregated model's pooled flow cannot be split into real pairs.
    /// - Throws: ``ReviewSolverError/infeasible(bids:reason:)`` when not every seat can be filled.
    mutating func solve() throws(ReviewSolverError) -> [FractionalAssignment.Pair]? {
        let denominator = instance.cap.denominator
        let seats = instance.drawnPerBid * denominator
        let bidCount = instance.bids.count
        let demand = bidCount * seats
        if network.solveByCostScaling(from: Self.source, to: Self.sink, value: demand) == nil {
            // Infeasible: the primal-dual solver's largest flow names the bids left short.
            let (sent, _) = network.solve(from: Self.source, to: Self.sink, value: demand)
            precondition(sent < demand, "cost scaling found no flow the primal-dual solver found")
            let short = (0..<bidCount).filter { network.flow(onArc: Int(bidArc[$0])) < seats }.map { instance.bids[$0].id }
            let totalLoad = instance.experts.reduce(0) { $0 + $1.load }
            throw .infeasible(bids: short, reason: .loadCapsExhausted(totalLoad: totalLoad, seatsNeeded: bidCount * instance.drawnPerBid))
        }
        var pairs: [FractionalAssignment.Pair] = []
        for b in 0..<bidCount {
            for record in pairStart[b]..<pairStart[b + 1] {
                let units = network.flow(onArc: Int(pairArc[record]))
                if units > 0 {
                    pairs.append(.init(expert: Int(pairExpert[record]), bid: b, units: units, affinity: Int(pairAffinity[record])))
                }
            }
        }
        if !explicit {
            guard let pooled = splitPool() ?? splitPoolByFlow() else { return nil }
            pairs += pooled
            pairs.sort { ($0.bid, $0.expert) < ($1.bid, $1.expert) }
        }
        return pairs
    }

    /// Splits the pool's flow into zero-affinity pairs, largest remaining supply first.
    private func splitPool() -> [FractionalAssignment.Pair]? {
        let denominator = instance.cap.denominator
        let pairUnits = instance.cap.numerator
        let expertCount = instance.experts.count
        var supply = [Int](repeating: 0, count: expertCount)
        var heap = SupplyHeap()
        for e in 0..<expertCount where poolInArc[e] >= 0 {
            supply[e] = network.flow(onArc: Int(poolInArc[e]))
            if supply[e] > 0 { heap.push(supply: supply[e], expert: e) }
        }
        var forbidden = [Bool](repeating: false, count: expertCount)
        var organisationUsed = [Int](repeating: 0, count: instance.organisationCount)
        var touched: [Int] = []
        var setAside: [Int] = []
        var pairs: [FractionalAssignment.Pair] = []
        for b in 0..<instance.bids.count {
            var need = network.flow(onArc: Int(poolOutArc[b]))
            guard need > 0 else { continue }
            for record in pairStart[b]..<pairStart[b + 1] {
                let e = Int(pairExpert[record])
                forbidden[e] = true
                touched.append(e)
                organisationUsed[Int(instance.organisationOfExpert[e])] += network.flow(onArc: Int(pairArc[record]))
            }
            for position in instance.conflictStart[b]..<instance.conflictStart[b + 1] {
                let e = Int(instance.conflictExpert[position])
                forbidden[e] = true
                touched.append(e)
            }
            setAside.removeAll(keepingCapacity: true)
            while need > 0 {
                guard let e = heap.pop() else { return nil }
                setAside.append(e)
                let o = Int(instance.organisationOfExpert[e])
                guard !forbidden[e], organisationUsed[o] < denominator else { continue }
                let units = min(pairUnits, supply[e], need, denominator - organisationUsed[o])
                pairs.append(.init(expert: e, bid: b, units: units, affinity: 0))
                supply[e] -= units
                need -= units
                organisationUsed[o] += units
                touched.append(e)
            }
            for e in setAside where supply[e] > 0 { heap.push(supply: supply[e], expert: e) }
            for e in touched {
                forbidden[e] = false
                organisationUsed[Int(instance.organisationOfExpert[e])] = 0
            }
            touched.removeAll(keepingCapacity: true)
        }
        return pairs
    }
}

extension AssignmentNetwork {
    /// The largest split network tried (experts with pooled supply × bids with pooled need) before
    /// falling back to the explicit model.
    static let maximumSplitPairs = 20_000_000

    /// Splits the pool's flow exactly, by a max-flow over every allowed zero-affinity pair between
    /// experts with pooled supply and bids with pooled need (organisation capacity left by the
    /// positive pairs); `nil` when no split exists or the network would be too large.
    fileprivate func splitPoolByFlow() -> [FractionalAssignment.Pair]? {
        let denominator = instance.cap.denominator
        let pairUnits = instance.cap.numerator
        let suppliers = (0..<instance.experts.count).filter { poolInArc[$0] >= 0 && network.flow(onArc: Int(poolInArc[$0])) > 0 }
        let needing = (0..<instance.bids.count).filter { network.flow(onArc: Int(poolOutArc[$0])) > 0 }
        guard suppliers.count * needing.count <= Self.maximumSplitPairs else { return nil }
        let bySupplierOrganisation = suppliers.sorted {
            (instance.organisationOfExpert[$0], $0) < (instance.organisationOfExpert[$1], $1)
        }
        var split = FlowNetwork(nodeCount: 2 + instance.experts.count + needing.count)
        var total = 0
        for e in suppliers {
            split.addArc(from: 0, to: 2 + e, capacity: network.flow(onArc: Int(poolInArc[e])), cost: 0)
        }
        var forbidden = [Bool](repeating: false, count: instance.experts.count)
        var organisationUsed = [Int](repeating: 0, count: instance.organisationCount)
        var records: [(expert: Int, bid: Int, arc: Int)] = []
        for (index, b) in needing.enumerated() {
            let bidNode = 2 + instance.experts.count + index
            let need = network.flow(onArc: Int(poolOutArc[b]))
            total += need
            split.addArc(from: bidNode, to: 1, capacity: need, cost: 0)
            for record in pairStart[b]..<pairStart[b + 1] {
                forbidden[Int(pairExpert[record])] = true
                organisationUsed[Int(instance.organisationOfExpert[Int(pairExpert[record])])] += network.flow(onArc: Int(pairArc[record]))
            }
            for position in instance.conflictStart[b]..<instance.conflictStart[b + 1] { forbidden[Int(instance.conflictExpert[position])] = true }
            var start = 0
            while start < bySupplierOrganisation.count {
                let organisation = instance.organisationOfExpert[bySupplierOrganisation[start]]
                var end = start
                while end < bySupplierOrganisation.count, instance.organisationOfExpert[bySupplierOrganisation[end]] == organisation { end += 1 }
                let room = denominator - organisationUsed[Int(organisation)]
                let allowed = bySupplierOrganisation[start..<end].filter { !forbidden[$0] }
                if room > 0, !allowed.isEmpty {
                    let head = split.addNode()
                    split.addArc(from: head, to: bidNode, capacity: room, cost: 0)
                    for e in allowed { records.append((e, b, split.addArc(from: 2 + e, to: head, capacity: pairUnits, cost: 0))) }
                }
                start = end
            }
            for record in pairStart[b]..<pairStart[b + 1] {
                forbidden[Int(pairExpert[record])] = false
                organisationUsed[Int(instance.organisationOfExpert[Int(pairExpert[record])])] = 0
            }
            for position in instance.conflictStart[b]..<instance.conflictStart[b + 1] { forbidden[Int(instance.conflictExpert[position])] = false }
        }
        guard split.solve(from: 0, to: 1, value: total).flow == total else { return nil }
        return records.compactMap { record in
            let units = split.flow(onArc: record.arc)
            return units > 0 ? FractionalAssignment.Pair(expert: record.expert, bid: record.bid, units: units, affinity: 0) : nil
        }
    }
}

/// A max-heap of experts by remaining supply, ties to the lower index (a stable order).
private struct SupplyHeap {
    private var keys: [UInt64] = []

    mutating func push(supply: Int, expert: Int) {
        keys.append(UInt64(supply) << 32 | UInt64(UInt32.max - UInt32(expert)))
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard keys[parent] < keys[i] else { break }
            keys.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = keys.first else { return nil }
        let last = keys.removeLast()
        if !keys.isEmpty {
            keys[0] = last
            var i = 0
            while true {
                var child = 2 * i + 1
                guard child < keys.count else { break }
                if child + 1 < keys.count, keys[child + 1] > keys[child] { child += 1 }
                guard keys[child] > keys[i] else { break }
                keys.swapAt(child, i)
                i = child
            }
        }
        return Int(UInt32.max - UInt32(truncatingIfNeeded: top))
    }
}

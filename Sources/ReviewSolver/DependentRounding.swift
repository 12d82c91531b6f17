/// Dependent rounding of a fractional assignment, on its flow network (after Gandhi et al. 2006 and
/// the sampler of Jecmen et al. 2020).
///
/// The network is source → expert → (organisation, bid) → bid, each arc carrying the solution's
/// flow in units of `1/D`; bid → sink arcs carry exactly `(k + alternates)·D` and are left out. Flow
/// is conserved at every node, so a node with one non-integral arc has another: the non-integral arcs
/// always contain an (undirected) cycle. A walk finds one; along it, arcs crossed forwards move by `+δ`
/// and backwards by `−δ`, which keeps conservation. With `α` the largest step up and `β` the largest
/// step down that keep every arc between the multiples of `D` around its value, the cycle moves `+α`
/// with probability `β/(α+β)` and `−β` otherwise: each arc's expectation is unchanged and at least one
/// arc becomes a multiple of `D`. Repeating until none is left gives an integral flow in which every
/// pair is drawn with probability exactly `x`, each expert's panels are `⌊load used⌋` or `⌈…⌉` (never
/// above the load), each (organisation, bid) has at most one expert, and each bid has its full panel.
/// All arithmetic is on integers, and the walk visits arcs in a fixed order, so the result is a
/// function of the solution and the generator's seed.
struct DependentRounding {
    private var tail: [Int32] = []
    private var head: [Int32] = []
    private var value: [Int32] = []
    private let denominator: Int32
    /// The arc of each pair of the solution, in ``FractionalAssignment/pairs`` order.
    private var pairArc: [Int32] = []
    private var nodeCount: Int

    init(_ solution: FractionalAssignment) {
        let instance = solution.instance
        denominator = Int32(solution.denominator)
        let expertCount = instance.experts.count
        nodeCount = 1 + expertCount + instance.bids.count
        var used = [Int32](repeating: 0, count: expertCount)
        for pair in solution.pairs { used[pair.expert] += Int32(pair.units) }
        for e in 0..<expertCount where used[e] > 0 { addArc(0, 1 + e, used[e]) }
        let pairs = solution.pairs
        pairArc = [Int32](repeating: -1, count: pairs.count)
        var start = 0
        while start < pairs.count {
            let bid = pairs[start].bid
            var end = start
            while end < pairs.count, pairs[end].bid == bid { end += 1 }
            let bidNode = 1 + expertCount + bid
            let group = (start..<end).sorted {
                (instance.organisationOfExpert[pairs[$0].expert], $0) < (instance.organisationOfExpert[pairs[$1].expert], $1)
            }
            var first = 0
            while first < group.count {
                let organisation = instance.organisationOfExpert[pairs[group[first]].expert]
                var last = first + 1
                while last < group.count, instance.organisationOfExpert[pairs[group[last]].expert] == organisation { last += 1 }
                var target = bidNode
                if last - first > 1 {
                    target = nodeCount
                    nodeCount += 1
                    let total = group[first..<last].reduce(Int32(0)) { $0 + Int32(pairs[$1].units) }
                    addArc(target, bidNode, total)
                }
                for index in group[first..<last] {
                    pairArc[index] = Int32(tail.count)
                    addArc(1 + pairs[index].expert, target, Int32(pairs[index].units))
                }
                first = last
            }
            start = end
        }
    }

    private mutating func addArc(_ from: Int, _ to: Int, _ units: Int32) {
        tail.append(Int32(from))
        head.append(Int32(to))
        value.append(units)
    }

    /// Rounds every arc to a multiple of `D` and returns, per pair of the solution, whether it is drawn.
    mutating func round(using generator: inout SplitMix64) -> [Bool] {
        let arcCount = tail.count
        let d = denominator
        var first = [Int](repeating: 0, count: nodeCount + 1)
        for arc in 0..<arcCount {
            first[Int(tail[arc]) + 1] += 1
            first[Int(head[arc]) + 1] += 1
        }
        for v in 0..<nodeCount { first[v + 1] += first[v] }
        var incident = [Int32](repeating: 0, count: 2 * arcCount)
        var fill = first
        for arc in 0..<arcCount {
            incident[fill[Int(tail[arc])]] = Int32(arc)
            fill[Int(tail[arc])] += 1
            incident[fill[Int(head[arc])]] = Int32(arc)
            fill[Int(head[arc])] += 1
        }
        var cursor = Array(first[0..<nodeCount])
        var position = [Int32](repeating: -1, count: nodeCount)
        var pathNodes: [Int32] = []
        var pathArcs: [Int32] = []
        var cycle: [Int32] = []
        var forward: [Bool] = []

        func fractional(_ arc: Int) -> Bool { value[arc] % d != 0 }
        /// The next non-integral arc at `u` other than `incoming`, advancing past integral ones.
        func nextArc(at u: Int, excluding incoming: Int) -> Int? {
            let end = first[u + 1]
            while cursor[u] < end, !fractional(Int(incident[cursor[u]])) { cursor[u] += 1 }
            var index = cursor[u]
            while index < end {
                let arc = Int(incident[index])
                if arc != incoming, fractional(arc) { return arc }
                index += 1
            }
            return nil
        }

        for start in 0..<nodeCount {
            while true {
                if pathNodes.isEmpty {
                    guard nextArc(at: start, excluding: -1) != nil else { break }
                    pathNodes.append(Int32(start))
                    position[start] = 0
                }
                let u = Int(pathNodes[pathNodes.count - 1])
                let incoming = pathArcs.last.map { Int($0) } ?? -1
                guard let arc = nextArc(at: u, excluding: incoming) else {
                    preconditionFailure("flow conservation leaves no node with a single non-integral arc")
                }
                let w = Int(tail[arc]) == u ? Int(head[arc]) : Int(tail[arc])
                let seen = Int(position[w])
                if seen < 0 {
                    pathArcs.append(Int32(arc))
                    pathNodes.append(Int32(w))
                    position[w] = Int32(pathNodes.count - 1)
                    continue
                }
                cycle.removeAll(keepingCapacity: true)
                forward.removeAll(keepingCapacity: true)
                for index in seen..<pathArcs.count {
                    cycle.append(pathArcs[index])
                    forward.append(Int(tail[Int(pathArcs[index])]) == Int(pathNodes[index]))
                }
                cycle.append(Int32(arc))
                forward.append(Int(tail[arc]) == u)
                var up = Int32.max
                var down = Int32.max
                for (index, arc) in cycle.enumerated() {
                    let v = value[Int(arc)]
                    let above = d - v % d
                    let below = v % d
                    up = min(up, forward[index] ? above : below)
                    down = min(down, forward[index] ? below : above)
                }
                let step = generator.uniform(below: UInt64(up) + UInt64(down)) < UInt64(down) ? up : -down
                for (index, arc) in cycle.enumerated() { value[Int(arc)] += forward[index] ? step : -step }
                for index in (seen + 1)..<pathNodes.count { position[Int(pathNodes[index])] = -1 }
                pathNodes.removeSubrange((seen + 1)...)
                pathArcs.removeSubrange(seen...)
                if pathArcs.isEmpty, nextArc(at: start, excluding: -1) == nil {
                    position[start] = -1
                    pathNodes.removeAll(keepingCapacity: true)
                    break
                }
            }
        }
        return pairArc.map { value[Int($0)] == d }
    }
}

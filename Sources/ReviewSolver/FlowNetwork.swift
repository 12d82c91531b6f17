/// A directed network with integer capacities and non-negative integer costs, solved for a
/// minimum-cost flow of a given value by the primal–dual method.
///
/// Each phase runs Dijkstra on reduced costs (a bucket queue for small distances, a binary heap beyond; stopped once the sink is settled), moves
/// the node potentials, then sends a blocking flow (Dinic: BFS levels, DFS with current-arc pointers)
/// through the arcs of reduced cost 0. Every phase raises the sink's distance by at least 1, so the
/// phases are bounded by the longest path cost, while one phase sends many units; potentials stay
/// valid throughout, so the result is optimal (no negative residual cycle). Sizes: nodes and arcs
/// below 2^31, capacities `Int32`, costs `Int32`, potentials `Int64`.
///
/// ``solveByCostScaling(from:to:value:)`` solves the same problem by Goldberg's cost scaling
/// (``CostScaling``), much faster on the assignment networks; the primal–dual `solve` stays for
/// infeasible networks (the largest flow at minimum cost) and small networks.
struct FlowNetwork {
    private(set) var nodeCount: Int
    private var tails: [Int32] = []
    private var heads: [Int32] = []
    private var capacities: [Int32] = []
    private var costs: [Int32] = []

    // Residual graph (compressed rows), built by `solve`.
    private var first: [Int32] = []
    private var target: [Int32] = []
    private var residual: [Int32] = []
    private var cost: [Int32] = []
    private var mate: [Int32] = []
    private var forwardPosition: [Int32] = []

    /// Phases run by the last `solve`, for benchmarks.
    private(set) var phases = 0

    init(nodeCount: Int) { self.nodeCount = nodeCount }

    /// Adds a node and returns it.
    mutating func addNode() -> Int {
        nodeCount += 1
        return nodeCount - 1
    }

    /// Adds an arc and returns its index, for ``flow(onArc:)``.
    @discardableResult
    mutating func addArc(from tail: Int, to head: Int, capacity: Int, cost arcCost: Int) -> Int {
        tails.append(Int32(tail))
        heads.append(Int32(head))
        capacities.append(Int32(capacity))
        costs.append(Int32(arcCost))
        return tails.count - 1
    }

    /// The number of arcs added.
    var arcCount: Int { tails.count }

    /// The flow on arc `arc` after ``solve(from:to:value:)``.
    func flow(onArc arc: Int) -> Int { Int(residual[Int(mate[Int(forwardPosition[arc])])]) }

    /// The capacity left on arc `arc` after ``solve(from:to:value:)``.
    func residualCapacity(onArc arc: Int) -> Int { Int(residual[Int(forwardPosition[arc])]) }

    /// Sends up to `value` units from `source` to `sink` at minimum cost.
    /// - Returns: the units sent (less than `value` when the network cannot carry more) and their cost.
    mutating func solve(from source: Int, to sink: Int, value: Int) -> (flow: Int, cost: Int64) {
        buildResidualGraph()
        let n = nodeCount
        var potential = [Int64](repeating: 0, count: n)
        var distance = [Int64](repeating: .max, count: n)
        var level = [Int32](repeating: -1, count: n)
        var settled = [Int32](repeating: 0, count: n)
        var current = [Int32](repeating: 0, count: n)
        var queue = [Int32](repeating: 0, count: n)
        var heap = DistanceQueue()
        var touched: [Int32] = []
        var sent = 0
        phases = 0
        while sent < value {
            phases += 1
            let sinkDistance = shortestDistances(
                from: source, to: sink, potential: potential, distance: &distance, heap: &heap, touched: &touched,
                settled: &settled, stamp: Int32(truncatingIfNeeded: phases))
            guard sinkDistance < .max else { break }
            for v in 0..<n { potential[v] += min(distance[v], sinkDistance) }
            for v in touched { distance[Int(v)] = .max }
            sent += blockingFlow(
                from: source, to: sink, limit: value - sent, potential: potential,
                settled: settled, stamp: Int32(truncatingIfNeeded: phases), level: &level, current: &current, queue: &queue)
        }
        var total: Int64 = 0
        for arc in 0..<tails.count { total += Int64(flow(onArc: arc)) * Int64(costs[arc]) }
        return (sent, total)
    }

    /// Sends exactly `value` units from `source` to `sink` at minimum cost by cost scaling
    /// (``CostScaling``); `nil` when the network cannot carry `value` units (then call
    /// ``solve(from:to:value:)`` for the largest flow at minimum cost).
    mutating func solveByCostScaling(from source: Int, to sink: Int, value: Int) -> Int64? {
        buildResidualGraph()
        phases = 0
        let n = nodeCount
        let m = target.count
        guard m > 0 else { return value == 0 ? 0 : nil }
        var feasible = false
        let first = self.first
        let target = self.target
        let cost = self.cost
        let mate = self.mate
        var refinements = 0
        residual.withUnsafeMutableBufferPointer { residual in
            first.withUnsafeBufferPointer { first in
                target.withUnsafeBufferPointer { target in
                    cost.withUnsafeBufferPointer { cost in
                        mate.withUnsafeBufferPointer { mate in
                            var solver = CostScaling(
                                n: n, first: first.baseAddress!, target: target.baseAddress!, cost: cost.baseAddress!,
                                mate: mate.baseAddress!, residual: residual.baseAddress!, arcCount: m)
                            feasible = solver.run(from: source, to: sink, value: value)
                            refinements = solver.refinements
                        }
                    }
                }
            }
        }
        phases = refinements
        guard feasible else { return nil }
        var total: Int64 = 0
        for arc in 0..<tails.count { total += Int64(flow(onArc: arc)) * Int64(costs[arc]) }
        return total
    }

    private mutating func buildResidualGraph() {
        let n = nodeCount
        let m = tails.count
        var degree = [Int32](repeating: 0, count: n + 1)
        for arc in 0..<m {
            degree[Int(tails[arc]) + 1] += 1
            degree[Int(heads[arc]) + 1] += 1
        }
        for v in 0..<n { degree[v + 1] += degree[v] }
        first = degree
        var fill = Array(degree[0..<n])
        target = [Int32](repeating: 0, count: 2 * m)
        residual = [Int32](repeating: 0, count: 2 * m)
        cost = [Int32](repeating: 0, count: 2 * m)
        mate = [Int32](repeating: 0, count: 2 * m)
        forwardPosition = [Int32](repeating: 0, count: m)
        for arc in 0..<m {
            let u = Int(tails[arc])
            let v = Int(heads[arc])
            let forward = Int(fill[u])
            fill[u] += 1
            let backward = Int(fill[v])
            fill[v] += 1
            target[forward] = Int32(v)
            target[backward] = Int32(u)
            residual[forward] = capacities[arc]
            residual[backward] = 0
            cost[forward] = costs[arc]
            cost[backward] = -costs[arc]
            mate[forward] = Int32(backward)
            mate[backward] = Int32(forward)
            forwardPosition[arc] = Int32(forward)
        }
    }

    /// Dijkstra on reduced costs from `source`, stopped once every node at most as far as `sink` is settled.
    /// - Returns: the sink's distance, or `.max` when it is unreachable; `distance` holds every reached
    ///   node's tentative distance and `touched` lists them.
    private func shortestDistances(
        from source: Int, to sink: Int, potential: [Int64], distance: inout [Int64],
        heap: inout DistanceQueue, touched: inout [Int32], settled: inout [Int32], stamp: Int32
    ) -> Int64 {
        touched.removeAll(keepingCapacity: true)
        heap.removeAll()
        distance[source] = 0
        touched.append(Int32(source))
        heap.push(0, Int32(source))
        var sinkDistance = Int64.max
        first.withUnsafeBufferPointer { first in
            target.withUnsafeBufferPointer { target in
                residual.withUnsafeBufferPointer { residual in
                    cost.withUnsafeBufferPointer { cost in
                        potential.withUnsafeBufferPointer { potential in
                            distance.withUnsafeMutableBufferPointer { distance in
                                while let (d, node) = heap.pop() {
                                    let u = Int(node)
                                    if d > distance[u] { continue }
                                    if d > sinkDistance { break }
                                    settled[u] = stamp
                                    if u == sink { sinkDistance = d }
                                    let base = d + potential[u]
                                    for arc in Int(first[u])..<Int(first[u + 1]) where residual[arc] > 0 {
                                        let v = Int(target[arc])
                                        let candidate = base + Int64(cost[arc]) - potential[v]
                                        if candidate < distance[v] {
                                            if distance[v] == .max { touched.append(Int32(v)) }
                                            distance[v] = candidate
                                            heap.push(candidate, Int32(v))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return sinkDistance
    }

    /// Dinic's blocking flows on the admissible arcs (residual > 0, reduced cost 0), repeated until the
    /// sink is unreachable through them or `limit` units are sent.
    private mutating func blockingFlow(
        from source: Int, to sink: Int, limit: Int, potential: [Int64], settled: [Int32], stamp: Int32,
        level: inout [Int32], current: inout [Int32], queue: inout [Int32]
    ) -> Int {
        var sent = 0
        let first = self.first
        let target = self.target
        let cost = self.cost
        let mate = self.mate
        residual.withUnsafeMutableBufferPointer { residual in
            potential.withUnsafeBufferPointer { potential in
                level.withUnsafeMutableBufferPointer { level in
                    current.withUnsafeMutableBufferPointer { current in
                        queue.withUnsafeMutableBufferPointer { queue in
                            first.withUnsafeBufferPointer { first in
                                target.withUnsafeBufferPointer { target in
                                    cost.withUnsafeBufferPointer { cost in
                                        mate.withUnsafeBufferPointer { mate in
                                            @inline(__always) func admissible(_ u: Int, _ arc: Int) -> Bool {
                                                residual[arc] > 0
                                                    && Int64(cost[arc]) + potential[u] - potential[Int(target[arc])] == 0
                                            }
                                            var path: [Int32] = []
                                            while sent < limit {
                                                level[source] = 0
                                                queue[0] = Int32(source)
                                                var head = 0
                                                var tail = 1
                                                while head < tail {
                                                    let u = Int(queue[head])
                                                    head += 1
                                                    if level[sink] >= 0 && level[u] >= level[sink] { continue }
                                                    for arc in Int(first[u])..<Int(first[u + 1]) where residual[arc] > 0 {
                                                        let v = Int(target[arc])
                                                        if level[v] < 0 && settled[v] == stamp && admissible(u, arc) {
                                                            level[v] = level[u] + 1
                                                            queue[tail] = Int32(v)
                                                            tail += 1
                                                        }
                                                    }
                                                }
                                                defer { for i in 0..<tail { level[Int(queue[i])] = -1 } }
                                                if level[sink] < 0 { break }
                                                for i in 0..<tail {
                                                    let v = Int(queue[i])
                                                    current[v] = first[v]
                                                }
                                                let sinkLevel = level[sink]
                                                path.removeAll(keepingCapacity: true)
                                                var u = source
                                                while sent < limit {
                                                    if u == sink {
                                                        var bottleneck = limit - sent
                                                        for arc in path { bottleneck = min(bottleneck, Int(residual[Int(arc)])) }
                                                        var retreatTo = -1
                                                        for (index, arc) in path.enumerated() {
                                                            let a = Int(arc)
                                                            residual[a] -= Int32(bottleneck)
                                                            residual[Int(mate[a])] += Int32(bottleneck)
                                                            if retreatTo < 0 && residual[a] == 0 { retreatTo = index }
                                                        }
                                                        sent += bottleneck
                                                        if retreatTo < 0 { break }
                                                        path.removeSubrange(retreatTo...)
                                                        u = path.last.map { Int(target[Int($0)]) } ?? source
                                                        continue
                                                    }
                                                    var advanced = false
                                                    let end = first[u + 1]
                                                    while current[u] < end {
                                                        let arc = Int(current[u])
                                                        let v = Int(target[arc])
                                                        if level[v] == level[u] + 1 && (v == sink || level[v] < sinkLevel)
                                                            && admissible(u, arc)
                                                        {
                                                            path.append(Int32(arc))
                                                            u = v
                                                            advanced = true
                                                            break
                                                        }
                                                        current[u] += 1
                                                    }
                                                    if advanced { continue }
                                                    if u == source { break }
                                                    level[u] = -1
                                                    let arc = Int(path.removeLast())
                                                    u = Int(target[Int(mate[arc])])
                                                    current[u] += 1
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return sent
    }
}

/// Dijkstra's queue of (distance, node), lazy deletion: Dial's buckets for distances below
/// `bucketCount` (reduced distances in a phase are mostly tiny), a binary heap for the rest. Keys
/// must be pushed in Dijkstra's order (never below the last popped key).
private struct DistanceQueue {
    private static let bucketCount = 1_024
    private var buckets = [[Int32]](repeating: [], count: DistanceQueue.bucketCount)
    private var cursor = 0
    private var highest = -1
    private var overflow = DistanceHeap()

    mutating func removeAll() {
        if highest >= 0 {
            for index in 0...highest { buckets[index].removeAll(keepingCapacity: true) }
        }
        cursor = 0
        highest = -1
        overflow.removeAll()
    }

    mutating func push(_ key: Int64, _ node: Int32) {
        if key < Int64(DistanceQueue.bucketCount) {
            buckets[Int(key)].append(node)
            highest = max(highest, Int(key))
        } else {
            overflow.push(key, node)
        }
    }

    mutating func pop() -> (Int64, Int32)? {
        while cursor < DistanceQueue.bucketCount {
            if let node = buckets[cursor].popLast() { return (Int64(cursor), node) }
            cursor += 1
        }
        return overflow.pop()
    }
}

/// A binary min-heap of (distance, node) with lazy deletion.
private struct DistanceHeap {
    private var keys: [Int64] = []
    private var nodes: [Int32] = []

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        nodes.removeAll(keepingCapacity: true)
    }

    mutating func push(_ key: Int64, _ node: Int32) {
        var i = keys.count
        keys.append(key)
        nodes.append(node)
        while i > 0 {
            let parent = (i - 1) / 2
            if keys[parent] <= key { break }
            keys[i] = keys[parent]
            nodes[i] = nodes[parent]
            i = parent
        }
        keys[i] = key
        nodes[i] = node
    }

    mutating func pop() -> (Int64, Int32)? {
        guard let topKey = keys.first, let topNode = nodes.first else { return nil }
        let lastKey = keys.removeLast()
        let lastNode = nodes.removeLast()
        let count = keys.count
        if count > 0 {
            var i = 0
            while true {
                var child = 2 * i + 1
                if child >= count { break }
                if child + 1 < count && keys[child + 1] < keys[child] { child += 1 }
                if keys[child] >= lastKey { break }
                keys[i] = keys[child]
                nodes[i] = nodes[child]
                i = child
            }
            keys[i] = lastKey
            nodes[i] = lastNode
        }
        return (topKey, topNode)
    }
}

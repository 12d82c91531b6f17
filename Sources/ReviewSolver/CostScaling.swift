/// Goldberg's cost-scaling push–relabel minimum-cost flow (Goldberg & Tarjan 1990; Goldberg 1997),
/// working in place on a ``FlowNetwork``'s residual graph (compressed rows, arcs paired by `mate`).
///
/// First a max-flow (Dinic) finds a feasible flow of the requested value, or shows there is none.
/// Costs are then multiplied by `n + 1`, and the flow is made ε-optimal for ε = C(n + 1)/α, C(n + 1)/α² (α = 5, as in OR-Tools),
/// …, 1: each refinement saturates the residual arcs of negative reduced cost and discharges the
/// excesses this creates (FIFO queue, current-arc pointers, relabel to the largest price that keeps
/// ε-optimality). A flow that is 1-optimal in costs scaled by `n + 1` is `1/(n + 1)`-optimal in the
/// integer costs, hence optimal (every residual cycle has at most `n` arcs, so its cost is > −1, hence
/// ≥ 0). Integer arithmetic throughout; no randomness, so the result depends only on the network.
///
/// Pointers are borrowed from the caller's arrays for the duration of ``run(from:to:value:)``.
struct CostScaling {
    let n: Int
    let first: UnsafePointer<Int32>
    let target: UnsafePointer<Int32>
    let cost: UnsafePointer<Int32>
    let mate: UnsafePointer<Int32>
    let residual: UnsafeMutablePointer<Int32>
    let arcCount: Int

    /// Scaling factor between refinements.
    var alpha: Int64 = 5
    /// Goldberg's push look-ahead: relabel a node before pushing into it when it has no admissible arc.
    var lookahead = true
    /// Refinements run by the last solve, for benchmarks.
    private(set) var refinements = 0

    init(
        n: Int, first: UnsafePointer<Int32>, target: UnsafePointer<Int32>, cost: UnsafePointer<Int32>,
        mate: UnsafePointer<Int32>, residual: UnsafeMutablePointer<Int32>, arcCount: Int
    ) {
        self.n = n
        self.first = first
        self.target = target
        self.cost = cost
        self.mate = mate
        self.residual = residual
        self.arcCount = arcCount
    }

    /// Sends `value` units from `source` to `sink` at minimum cost.
    /// - Returns: `false` (the residual graph then holds a maximum flow below `value`) when the network
    ///   cannot carry `value` units.
    mutating func run(from source: Int, to sink: Int, value: Int) -> Bool {
        let level = UnsafeMutablePointer<Int32>.allocate(capacity: n + 1)
        let current = UnsafeMutablePointer<Int32>.allocate(capacity: n + 1)
        let queue = UnsafeMutablePointer<Int32>.allocate(capacity: n + 1)
        defer {
            level.deallocate()
            current.deallocate()
            queue.deallocate()
        }
        let sent = maximumFlow(from: source, to: sink, limit: value, level: level, current: current, queue: queue)
        guard sent == value else { return false }
        let price = UnsafeMutablePointer<Int64>.allocate(capacity: n + 1)
        let excess = UnsafeMutablePointer<Int64>.allocate(capacity: n + 1)
        defer {
            price.deallocate()
            excess.deallocate()
        }
        price.initialize(repeating: 0, count: n + 1)
        excess.initialize(repeating: 0, count: n + 1)
        let multiplier = Int64(n + 1)
        var largest: Int64 = 0
        for arc in 0..<arcCount {
            let c = Int64(cost[arc])
            largest = max(largest, c < 0 ? -c : c)
        }
        var epsilon = largest * multiplier
        refinements = 0
        repeat {
            epsilon = max(1, epsilon / alpha)
            refinements += 1
            refine(epsilon: epsilon, multiplier: multiplier, price: price, excess: excess, current: current, queue: queue)
        } while epsilon > 1
        return true
    }

    /// Dinic's algorithm from the current residual graph; returns the units added (at most `limit`).
    private func maximumFlow(
        from source: Int, to sink: Int, limit: Int,
        level: UnsafeMutablePointer<Int32>, current: UnsafeMutablePointer<Int32>, queue: UnsafeMutablePointer<Int32>
    ) -> Int {
        var sent = 0
        var path: [Int32] = []
        while sent < limit {
            level.update(repeating: -1, count: n)
            level[source] = 0
            queue[0] = Int32(source)
            var head = 0
            var tail = 1
            while head < tail {
                let u = Int(queue[head])
                head += 1
                let next = level[u] + 1
                if level[sink] >= 0 && next > level[sink] { break }
                for arc in Int(first[u])..<Int(first[u + 1]) where residual[arc] > 0 {
                    let v = Int(target[arc])
                    if level[v] < 0 {
                        level[v] = next
                        queue[tail] = Int32(v)
                        tail += 1
                    }
                }
            }
            if level[sink] < 0 { break }
            for v in 0..<n { current[v] = first[v] }
            let sinkLevel = level[sink]
            path.removeAll(keepingCapacity: true)
            var u = source
            while sent < limit {
                if u == sink {
                    var bottleneck = limit - sent
                    for arc in path { bottleneck = min(bottleneck, Int(residual[Int(arc)])) }
                    var retreatTo = -1
                    for index in path.indices {
                        let a = Int(path[index])
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
                let want = level[u] + 1
                while current[u] < end {
                    let arc = Int(current[u])
                    let v = Int(target[arc])
                    if residual[arc] > 0 && level[v] == want && (v == sink || want < sinkLevel) {
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
        return sent
    }

    /// Whether `v` has an admissible arc (residual, negative reduced cost) at or after its current arc;
    /// moves the current arc to the first one.
    @inline(__always)
    private func hasAdmissibleArc(
        _ v: Int, multiplier: Int64, price: UnsafeMutablePointer<Int64>, current: UnsafeMutablePointer<Int32>
    ) -> Bool {
        let pv = price[v]
        var arc = Int(current[v])
        let end = Int(first[v + 1])
        while arc < end {
            if residual[arc] > 0 && Int64(cost[arc]) * multiplier + pv - price[Int(target[arc])] < 0 {
                current[v] = Int32(arc)
                return true
            }
            arc += 1
        }
        current[v] = Int32(end)
        return false
    }

    /// Lowers `v`'s price as far as ε-optimality of its residual arcs allows and points its current
    /// arc at the arc that became admissible; no change when `v` has no residual arc.
    @inline(__always)
    private func relabel(
        _ v: Int, epsilon: Int64, multiplier: Int64, price: UnsafeMutablePointer<Int64>, current: UnsafeMutablePointer<Int32>
    ) {
        var best = Int64.max
        var bestArc = -1
        for a in Int(first[v])..<Int(first[v + 1]) where residual[a] > 0 {
            let value = Int64(cost[a]) * multiplier - price[Int(target[a])]
            if value < best {
                best = value
                bestArc = a
            }
        }
        guard bestArc >= 0 else { return }
        price[v] = -best - epsilon
        current[v] = Int32(bestArc)
    }

    /// Makes the flow ε-optimal for the prices, from a 16ε-optimal (more generally any) flow.
    private func refine(
        epsilon: Int64, multiplier: Int64, price: UnsafeMutablePointer<Int64>, excess: UnsafeMutablePointer<Int64>,
        current: UnsafeMutablePointer<Int32>, queue: UnsafeMutablePointer<Int32>
    ) {
        let first = self.first
        let target = self.target
        let cost = self.cost
        let mate = self.mate
        let residual = self.residual
        let n = self.n
        // Saturate every residual arc of negative reduced cost.
        for u in 0..<n {
            let pu = price[u]
            for arc in Int(first[u])..<Int(first[u + 1]) {
                let r = residual[arc]
                guard r > 0 else { continue }
                let v = Int(target[arc])
                if Int64(cost[arc]) * multiplier + pu - price[v] < 0 {
                    residual[arc] = 0
                    residual[Int(mate[arc])] += r
                    excess[u] -= Int64(r)
                    excess[v] += Int64(r)
                }
            }
        }
        // FIFO discharge. A node is queued exactly when its excess turns positive, so at most once.
        let capacity = n + 1
        var head = 0
        var count = 0
        for u in 0..<n {
            current[u] = first[u]
            if excess[u] > 0 {
                queue[(head + count) % capacity] = Int32(u)
                count += 1
            }
        }
        while count > 0 {
            let u = Int(queue[head])
            head += 1
            if head == capacity { head = 0 }
            count -= 1
            var e = excess[u]
            var arc = Int(current[u])
            let end = Int(first[u + 1])
            var pu = price[u]
            while e > 0 {
                if arc == end {
                    // Relabel: the largest price drop that leaves every residual arc of u ε-optimal.
                    var best = Int64.max
                    var bestArc = -1
                    for a in Int(first[u])..<end where residual[a] > 0 {
                        let value = Int64(cost[a]) * multiplier - price[Int(target[a])]
                        if value < best {
                            best = value
                            bestArc = a
                        }
                    }
                    precondition(bestArc >= 0, "a node with excess has no residual arc")
                    pu = -best - epsilon
                    price[u] = pu
                    arc = bestArc
                }
                let r = residual[arc]
                if r > 0 {
                    let v = Int(target[arc])
                    if Int64(cost[arc]) * multiplier + pu - price[v] < 0 {
                        if lookahead && excess[v] >= 0 && !hasAdmissibleArc(v, multiplier: multiplier, price: price, current: current) {
                            // Look-ahead: v could not pass the units on; relabel it first, and push
                            // only if the arc is still admissible.
                            relabel(v, epsilon: epsilon, multiplier: multiplier, price: price, current: current)
                            if Int64(cost[arc]) * multiplier + pu - price[v] >= 0 {
                                arc += 1
                                continue
                            }
                        }
                        let delta = min(e, Int64(r))
                        residual[arc] = r - Int32(delta)
                        residual[Int(mate[arc])] += Int32(delta)
                        e -= delta
                        let before = excess[v]
                        excess[v] = before + delta
                        if before <= 0 && before + delta > 0 {
                            var slot = head + count
                            if slot >= capacity { slot -= capacity }
                            queue[slot] = Int32(v)
                            count += 1
                        }
                        if delta < Int64(r) { continue }
                    }
                }
                arc += 1
            }
            excess[u] = 0
            current[u] = Int32(arc)
        }
    }
}

import ReviewSolver
import Testing

/// The solver's guarantees: optimality, constraints in every draw, marginals, errors, verification.
struct ReviewSolverTests {
    @Test("The deterministic optimum equals an exhaustive search on small instances, in both flow models")
    func optimumMatchesExhaustiveSearch() throws {
        var feasible = 0
        for seed in UInt64(0)..<40 {
            let instance = try RandomInstances.make(
                seed: seed, bids: 3, experts: 6, organisations: 4, panelSize: 2, loads: 1...2, conflictPercent: 15)
            let affinity = Dictionary(uniqueKeysWithValues: Self.affinities(seed: seed, instance))
            let conflicts = Set(Self.conflicts(seed: seed, instance))
            let expected = RandomInstances.exhaustiveOptimum(
                instance, affinity: { affinity[Self.key($0, $1)] ?? 0 }, conflict: { conflicts.contains(Self.key($0, $1)) })
            for model in [FractionalAssignment.Model?.none, .explicit] {
                if let expected {
                    let solution = try instance.solveFractional(model: model)
                    #expect(solution.objectiveUnits == Int64(expected), "seed \(seed), model \(String(describing: model))")
                    #expect(solution.pairs.allSatisfy { $0.units == 1 })
                    try Self.checkConstraints(instance, solution.sample(seed: seed))
                } else {
                    #expect(throws: ReviewSolverError.self) { try instance.solveFractional(model: model) }
                }
            }
            if expected != nil { feasible += 1 }
        }
        #expect(feasible >= 20)
    }

    /// The pooled model relaxes the organisation rule and conflicts for zero-affinity pairs, so its flow
    /// cannot always be split into real pairs; the solver then falls back to the explicit model. Both
    /// ways the objective is the explicit optimum, and with many organisations the pool usually applies.
    @Test("The default model (zero-affinity pairs pooled, explicit fallback) reaches the explicit model's optimum", arguments: [1, 2])
    func aggregatedMatchesExplicit(denominator: Int) throws {
        var pooled = 0
        for seed in UInt64(0)..<12 {
            let instance = try RandomInstances.make(
                seed: 100 + seed, bids: 30, experts: 16, organisations: 14, panelSize: 3, loads: 6...7,
                conflictPercent: 10, positiveOneIn: 6, cap: try Rational(1, denominator))
            let explicit = try instance.solveFractional(model: .explicit)
            let solution = try instance.solveFractional()
            #expect(solution.objectiveUnits == explicit.objectiveUnits, "seed \(seed)")
            if solution.model == .aggregated { pooled += 1 }
            try Self.checkConstraints(instance, solution.sample(seed: seed))
        }
        #expect(pooled >= 6, "the pooled model applied to \(pooled) of 12 instances")
    }

    @Test("Every draw keeps conflicts, loads, panel sizes, alternates and the organisation rule")
    func drawsKeepTheConstraints() throws {
        let instance = try RandomInstances.make(
            seed: 7, bids: 20, experts: 18, organisations: 6, panelSize: 3, alternates: 1, loads: 6...8,
            cap: try Rational(1, 2))
        let solution = try instance.solveFractional()
        for pair in solution.pairs { #expect(pair.units <= 1 && pair.units >= 1) }
        for seed in UInt64(0)..<300 { try Self.checkConstraints(instance, solution.sample(seed: seed)) }
    }

    /// Tolerance: for each pair, the count over N = 4,000 draws (seeds 0..<4000, so the test is
    /// deterministic) must lie within 5 binomial standard deviations of N·x, plus 1; a pair with
    /// x = 0 is never drawn. For a correct sampler the chance of any of ~100 pairs failing is below 1e-4.
    @Test("Each pair's frequency over many draws matches its probability x within 5 binomial standard deviations")
    func frequenciesMatchMarginals() throws {
        let instance = try RandomInstances.make(
            seed: 11, bids: 8, experts: 12, organisations: 5, panelSize: 2, alternates: 1, loads: 3...4,
            cap: try Rational(2, 5))
        let solution = try instance.solveFractional()
        let draws = 4_000
        var counts: [String: Int] = [:]
        for seed in 0..<draws {
            let draw = solution.sample(seed: UInt64(seed))
            for pair in draw.assignments + draw.alternates { counts["\(pair.expert)/\(pair.bid)", default: 0] += 1 }
        }
        var expected: [String: Double] = [:]
        for pair in solution.probabilities { expected["\(pair.expert)/\(pair.bid)"] = pair.x }
        for (key, count) in counts { #expect(expected[key] != nil, "\(key) drawn \(count) times with x = 0") }
        for (key, x) in expected {
            let mean = Double(draws) * x
            let bound = 5 * (Double(draws) * x * (1 - x)).squareRoot() + 1
            #expect(abs(Double(counts[key] ?? 0) - mean) <= bound, "\(key): \(counts[key] ?? 0) vs \(mean) ± \(bound)")
            #expect(x <= 0.4 + 1e-12)
        }
    }

    @Test("A bid with too few eligible experts after conflicts is named with the constraint")
    func tooFewEligibleExpertsNamesTheBids() throws {
        let experts = (0..<4).map { Instance.Expert(id: "e\($0)", organisation: "o\($0)", load: 5) }
        let instance = try Instance(
            bids: [.init(id: "ok"), .init(id: "short")], experts: experts, affinities: [],
            conflicts: [.init(expert: "e0", bid: "short"), .init(expert: "e1", bid: "short")], panelSize: 3)
        #expect(throws: ReviewSolverError.infeasible(bids: ["short"], reason: .tooFewEligibleExperts(required: 3, available: 2, denominator: 1))) {
            try instance.solveFractional()
        }
        let halved = instance.with(cap: try Rational(1, 2))
        #expect(throws: ReviewSolverError.infeasible(bids: ["ok", "short"], reason: .tooFewEligibleExperts(required: 6, available: 2, denominator: 2))) {
            try halved.solveFractional()
        }
    }

    @Test("Loads too small for all panels make the solver name the bids left short and the load constraint")
    func exhaustedLoadsNameTheBids() throws {
        let experts = (0..<3).map { Instance.Expert(id: "e\($0)", organisation: "o\($0)", load: 1) }
        let instance = try Instance(bids: [.init(id: "b0"), .init(id: "b1")], experts: experts, affinities: [], conflicts: [], panelSize: 2)
        do {
            _ = try instance.solveFractional()
            Issue.record("expected infeasible")
        } catch {
            guard case .infeasible(let bids, .loadCapsExhausted(3, 4)) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(!bids.isEmpty && bids.allSatisfy { ["b0", "b1"].contains($0) })
        }
    }

    @Test("verify reproduces a draw and detects a changed seed, input or result")
    func verifyDetectsChanges() throws {
        let instance = try RandomInstances.make(
            seed: 3, bids: 10, experts: 12, organisations: 6, panelSize: 2, alternates: 1, loads: 3...5, cap: try Rational(1, 2))
        let draw = try instance.draw(seed: 42)
        #expect(try instance.verify(draw) == .reproduced)
        #expect(try instance.draw(seed: 42) == draw)

        var differingSeed: UInt64 = 43
        while try instance.draw(seed: differingSeed).assignments == draw.assignments { differingSeed += 1 }
        let reseeded = Draw(fingerprint: draw.fingerprint, cap: draw.cap, seed: differingSeed, assignments: draw.assignments, alternates: draw.alternates)
        #expect(try instance.verify(reseeded) == .resultDiffers)

        var edited = draw.assignments
        edited[0] = Draw.Pair(expert: edited[0].expert == "e0" ? "e1" : "e0", bid: edited[0].bid)
        let tampered = Draw(fingerprint: draw.fingerprint, cap: draw.cap, seed: draw.seed, assignments: edited, alternates: draw.alternates)
        #expect(try instance.verify(tampered) == .resultDiffers)

        let changedInput = try RandomInstances.make(
            seed: 4, bids: 10, experts: 12, organisations: 6, panelSize: 2, alternates: 1, loads: 3...5, cap: try Rational(1, 2))
        #expect(try changedInput.verify(draw) == .instanceChanged)
        #expect(try instance.with(cap: try Rational(2, 3)).verify(draw) == .instanceChanged)
    }

    @Test("q parses as a fraction or a decimal and is refused outside (0, 1]")
    func capParsing() throws {
        #expect(try Rational(parsing: "1/2") == Rational(1, 2))
        #expect(try Rational(parsing: "0.5") == Rational(2, 4))
        #expect(try Rational(parsing: "1") == .one)
        #expect(throws: ReviewSolverError.self) { try Rational(parsing: "3/2") }
        #expect(throws: ReviewSolverError.self) { try Rational(parsing: "0") }
        #expect(throws: ReviewSolverError.self) { try Rational(parsing: "9223372036854775807.5") }
        #expect(throws: ReviewSolverError.self) { try Rational(parsing: "-9223372036854775808.1") }
        #expect(throws: ReviewSolverError.self) { try Rational(parsing: "half") }
    }

    // MARK: - Helpers

    static func key(_ expert: Int, _ bid: Int) -> Int { expert * 1_000 + bid }

    /// The instance's affinities and conflicts, recomputed by id from the instance itself.
    static func affinities(seed: UInt64, _ instance: Instance) -> [(Int, Int)] {
        var result: [(Int, Int)] = []
        for b in 0..<instance.bids.count {
            for e in 0..<instance.experts.count { result.append((key(e, b), instance.affinityValue(expert: e, bid: b))) }
        }
        return result
    }

    static func conflicts(seed: UInt64, _ instance: Instance) -> [Int] {
        var result: [Int] = []
        for b in 0..<instance.bids.count {
            for e in 0..<instance.experts.count where instance.isConflicted(expert: e, bid: b) { result.append(key(e, b)) }
        }
        return result
    }

    /// Panel sizes, alternates, loads, conflicts and the organisation rule.
    static func checkConstraints(_ instance: Instance, _ draw: Draw) throws {
        let expertIndex = Dictionary(uniqueKeysWithValues: instance.experts.enumerated().map { ($1.id, $0) })
        let bidIndex = Dictionary(uniqueKeysWithValues: instance.bids.enumerated().map { ($1.id, $0) })
        var seats = [Int](repeating: 0, count: instance.bids.count)
        var backups = [Int](repeating: 0, count: instance.bids.count)
        var used = [Int](repeating: 0, count: instance.experts.count)
        var organisations = Set<String>()
        for (pairs, isAlternate) in [(draw.assignments, false), (draw.alternates, true)] {
            for pair in pairs {
                let e = try #require(expertIndex[pair.expert])
                let b = try #require(bidIndex[pair.bid])
                if isAlternate { backups[b] += 1 } else { seats[b] += 1 }
                used[e] += 1
                #expect(!instance.isConflicted(expert: e, bid: b), "conflict \(pair)")
                #expect(organisations.insert("\(instance.experts[e].organisation)/\(pair.bid)").inserted, "organisation twice on \(pair.bid)")
            }
        }
        #expect(seats.allSatisfy { $0 == instance.panelSize })
        #expect(backups.allSatisfy { $0 == instance.alternates })
        for (e, expert) in instance.experts.enumerated() { #expect(used[e] <= expert.load) }
    }
}

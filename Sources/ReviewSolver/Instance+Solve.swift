extension Instance {
    /// Solves the fractional problem for the instance's cap `q`: maximise `Σ affinity·x` with
    /// `Σ_e x = k + alternates` per bid, `Σ_b x ≤ load` per expert, `0 ≤ x ≤ q`, `x = 0` on conflicts
    /// and `Σ x ≤ 1` per organisation and bid — as a min-cost flow with capacities scaled by `q`'s
    /// denominator (``AssignmentNetwork``).
    /// - Parameter model: `nil` (the default) tries the aggregated model and falls back to the
    ///   explicit one; tests pass a model to compare them.
    /// - Throws: ``ReviewSolverError/infeasible(bids:reason:)`` naming the bids that cannot be staffed.
    public func solveFractional(model: FractionalAssignment.Model? = nil) throws(ReviewSolverError) -> FractionalAssignment {
        try checkEachBidAlone()
        if model != .explicit {
            var network = AssignmentNetwork(instance: self, explicit: false)
            if let pairs = try network.solve() {
                return FractionalAssignment(instance: self, denominator: cap.denominator, pairs: pairs, model: .aggregated)
            }
            if model == .aggregated {
                throw .invalidInput("the aggregated model could not split its pooled zero-affinity flow")
            }
        }
        var network = AssignmentNetwork(instance: self, explicit: true)
        guard let pairs = try network.solve() else {
            preconditionFailure("the explicit model has no pooled flow to split")
        }
        return FractionalAssignment(instance: self, denominator: cap.denominator, pairs: pairs, model: .explicit)
    }

    /// The deterministic optimum (`q = 1`): each pair is assigned or not.
    /// - Throws: ``ReviewSolverError/infeasible(bids:reason:)`` naming the bids that cannot be staffed.
    public func optimum() throws(ReviewSolverError) -> FractionalAssignment {
        try with(cap: .one).solveFractional()
    }

    /// Rejects bids that could not be staffed even with every expert free: after conflicts, each
    /// organisation offers at most `min(1, q × eligible experts)` of a seat.
    func checkEachBidAlone() throws(ReviewSolverError) {
        let denominator = cap.denominator
        let pairUnits = cap.numerator
        let required = drawnPerBid * denominator
        var eligible = [Int](repeating: 0, count: organisationCount)
        for (index, expert) in experts.enumerated() where expert.load > 0 {
            eligible[Int(organisationOfExpert[index])] += 1
        }
        func offer(_ count: Int) -> Int { min(denominator, pairUnits * count) }
        let base = eligible.reduce(0) { $0 + offer($1) }
        var short: [String] = []
        var worst = Int.max
        for b in 0..<bids.count {
            var available = base
            let conflicts = conflictStart[b]..<conflictStart[b + 1]
            for position in conflicts {
                let e = Int(conflictExpert[position])
                guard experts[e].load > 0 else { continue }
                let o = Int(organisationOfExpert[e])
                available += offer(eligible[o] - 1) - offer(eligible[o])
                eligible[o] -= 1
            }
            for position in conflicts {
                let e = Int(conflictExpert[position])
                if experts[e].load > 0 { eligible[Int(organisationOfExpert[e])] += 1 }
            }
            if available < required {
                short.append(bids[b].id)
                worst = min(worst, available)
            }
        }
        guard short.isEmpty else {
            throw .infeasible(
                bids: short,
                reason: .tooFewEligibleExperts(required: required, available: worst, denominator: denominator))
        }
    }
}

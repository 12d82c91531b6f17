/// The optimal fractional assignment `x` for an instance's cap `q`: each pair's probability as a
/// multiple of `1/denominator`, at most `q`, summing to `k + alternates` per bid.
public struct FractionalAssignment: Sendable {
    /// One pair with positive probability.
    public struct Pair: Hashable, Sendable {
        /// The expert's index in ``Instance/experts``.
        public let expert: Int
        /// The bid's index in ``Instance/bids``.
        public let bid: Int
        /// `x × denominator`, in `1 ... q × denominator`.
        public let units: Int
        /// The pair's affinity.
        public let affinity: Int
    }

    /// How the optimum was found.
    public enum Model: Sendable, Equatable {
        /// Zero-affinity pairs pooled through one aggregate node, then split into pairs: the usual case.
        case aggregated
        /// One arc per allowed pair: the fallback when the pooled flow cannot be split.
        case explicit
    }

    /// The instance solved.
    public let instance: Instance
    /// `q`'s denominator: probabilities are `units / denominator`.
    public let denominator: Int
    /// The pairs with positive probability, ordered by bid then expert (input order).
    public let pairs: [Pair]
    /// `Σ affinity × units`: the expected affinity of a draw is `objectiveUnits / denominator`.
    public let objectiveUnits: Int64
    /// The flow model that produced this solution.
    public let model: Model

    /// The expected total affinity of a draw (the total affinity itself when `q = 1`).
    public var expectedAffinity: Double { Double(objectiveUnits) / Double(denominator) }

    /// Each pair as `(expert id, bid id, probability)`.
    public var probabilities: [(expert: String, bid: String, x: Double)] {
        pairs.map { (instance.experts[$0.expert].id, instance.bids[$0.bid].id, Double($0.units) / Double(denominator)) }
    }

    init(instance: Instance, denominator: Int, pairs: [Pair], model: Model) {
        self.instance = instance
        self.denominator = denominator
        self.pairs = pairs
        self.objectiveUnits = pairs.reduce(0) { $0 + Int64($1.affinity) * Int64($1.units) }
        self.model = model
    }
}

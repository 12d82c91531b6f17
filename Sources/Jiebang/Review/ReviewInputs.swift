public import ReviewSolver

/// The instance a draw was made from, as recorded in `review_draws.inputs`: the JSON of
/// `ReviewBenchmark solve` plus the alternates, so anyone can feed a round's inputs to another solver.
///
/// ```json
/// {"k": 5, "alternates": 1, "q": "1/2", "bids": [{"id": "17"}], "experts": [{"id": "42", "org": "unit:3", "load": 10}],
///  "affinity": [["42", "17", 70]], "conflicts": [["43", "17"]]}
/// ```
/// Ids are the database ids as text; `org` is the expert's organisation key.
public struct ReviewInputs: Codable, Sendable, Hashable {
    /// A bid, by id.
    public struct BidEntry: Codable, Sendable, Hashable {
        public var id: String
    }

    /// An expert, by id, with organisation and load cap.
    public struct ExpertEntry: Codable, Sendable, Hashable {
        public var id: String
        public var org: String
        public var load: Int
    }

    /// `[expert, bid, affinity]`.
    public struct AffinityEntry: Codable, Sendable, Hashable {
        public var expert: String
        public var bid: String
        public var value: Int

        public init(expert: String, bid: String, value: Int) {
            self.expert = expert
            self.bid = bid
            self.value = value
        }

        public init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            expert = try container.decode(String.self)
            bid = try container.decode(String.self)
            value = try container.decode(Int.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(expert)
            try container.encode(bid)
            try container.encode(value)
        }
    }

    /// `[expert, bid]`.
    public struct PairEntry: Codable, Sendable, Hashable {
        public var expert: String
        public var bid: String

        public init(expert: String, bid: String) {
            self.expert = expert
            self.bid = bid
        }

        public init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            expert = try container.decode(String.self)
            bid = try container.decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(expert)
            try container.encode(bid)
        }
    }

    /// The panel size `k`.
    public var k: Int
    /// Alternates per bid.
    public var alternates: Int
    /// The pair cap `q` as a fraction, such as `1/2`.
    public var q: String
    public var bids: [BidEntry]
    public var experts: [ExpertEntry]
    public var affinity: [AffinityEntry]
    public var conflicts: [PairEntry]

    /// Creates inputs.
    public init(
        k: Int, alternates: Int, q: String, bids: [BidEntry], experts: [ExpertEntry], affinity: [AffinityEntry],
        conflicts: [PairEntry]
    ) {
        self.k = k
        self.alternates = alternates
        self.q = q
        self.bids = bids
        self.experts = experts
        self.affinity = affinity
        self.conflicts = conflicts
    }

    /// The solver's instance.
    /// - Throws: `ReviewSolverError.invalidInput` when the inputs are malformed.
    public func instance() throws(ReviewSolverError) -> Instance {
        try Instance(
            bids: bids.map { Instance.Bid(id: $0.id) },
            experts: experts.map { Instance.Expert(id: $0.id, organisation: $0.org, load: $0.load) },
            affinities: affinity.map { Instance.Affinity(expert: $0.expert, bid: $0.bid, value: $0.value) },
            conflicts: conflicts.map { Instance.Conflict(expert: $0.expert, bid: $0.bid) },
            panelSize: k, alternates: alternates, cap: try Rational(parsing: q))
    }
}

/// What a draw gave, as recorded in `review_draws.outcome`: pairs `[expert, bid]` by id.
public struct ReviewOutcome: Codable, Sendable, Hashable {
    /// The panel seats.
    public var assignments: [ReviewInputs.PairEntry]
    /// The alternates, in rank order within each bid.
    public var alternates: [ReviewInputs.PairEntry]

    /// Creates an outcome.
    public init(assignments: [ReviewInputs.PairEntry], alternates: [ReviewInputs.PairEntry]) {
        self.assignments = assignments
        self.alternates = alternates
    }

    /// The outcome of a solver draw.
    public init(_ draw: Draw) {
        assignments = draw.assignments.map { .init(expert: $0.expert, bid: $0.bid) }
        alternates = draw.alternates.map { .init(expert: $0.expert, bid: $0.bid) }
    }
}

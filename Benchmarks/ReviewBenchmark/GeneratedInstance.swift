import Foundation
import ReviewSolver

/// The benchmark's instance, a function of its seed: 300 organisations, 100 topics; each expert has
/// three topics with a strength in 40...100, each bid a primary and a secondary topic, primary topics
/// skewed (weight ∝ 1/(t+1)^0.8) so popular topics are over-subscribed. Affinity = Σ over shared topics
/// of strength × (2 for the primary, 1 for the secondary); other pairs have affinity 0. Each pair is a
/// conflict with probability 5%. k = 5, load 20.
struct GeneratedInstance {
    static let organisations = 300
    static let topics = 100
    static let panelSize = 5
    static let load = 20

    let bidCount: Int
    let expertCount: Int
    let organisationOfExpert: [Int32]
    /// (expert, bid, affinity), by bid then expert.
    let affinities: [(Int32, Int32, Int32)]
    /// (expert, bid), by bid then expert.
    let conflicts: [(Int32, Int32)]

    init(seed: UInt64, bids bidCount: Int, experts expertCount: Int) {
        var generator = SplitMix64(seed: seed)
        self.bidCount = bidCount
        self.expertCount = expertCount
        organisationOfExpert = (0..<expertCount).map { _ in Int32(generator.uniform(below: UInt64(Self.organisations))) }
        var strength = [[Int32]](repeating: [Int32](repeating: 0, count: Self.topics), count: expertCount)
        var expertsOfTopic = [[Int32]](repeating: [], count: Self.topics)
        for e in 0..<expertCount {
            var chosen = 0
            while chosen < 3 {
                let topic = Int(generator.uniform(below: UInt64(Self.topics)))
                guard strength[e][topic] == 0 else { continue }
                strength[e][topic] = Int32(40 + generator.uniform(below: 61))
                expertsOfTopic[topic].append(Int32(e))
                chosen += 1
            }
        }
        var cumulative: [Double] = []
        var total = 0.0
        for t in 0..<Self.topics {
            total += 1 / pow(Double(t + 1), 0.8)
            cumulative.append(total)
        }
        var affinities: [(Int32, Int32, Int32)] = []
        var conflicts: [(Int32, Int32)] = []
        var score = [Int32](repeating: 0, count: expertCount)
        var touched: [Int32] = []
        for b in 0..<bidCount {
            let draw = Double(generator.uniform(below: 1 << 53)) / Double(1 << 53) * total
            let primary = cumulative.firstIndex { $0 > draw } ?? (Self.topics - 1)
            var secondary = Int(generator.uniform(below: UInt64(Self.topics)))
            if secondary == primary { secondary = (secondary + 1) % Self.topics }
            for (topic, weight) in [(primary, Int32(2)), (secondary, Int32(1))] {
                for e in expertsOfTopic[topic] {
                    if score[Int(e)] == 0 { touched.append(e) }
                    score[Int(e)] += strength[Int(e)][topic] * weight
                }
            }
            touched.sort()
            for e in touched {
                affinities.append((e, Int32(b), score[Int(e)]))
                score[Int(e)] = 0
            }
            touched.removeAll(keepingCapacity: true)
            for e in 0..<expertCount where generator.uniform(below: 100) < 5 { conflicts.append((Int32(e), Int32(b))) }
        }
        self.affinities = affinities
        self.conflicts = conflicts
    }

    /// The solver's instance (ids `e0…`, `b0…`, `o0…`).
    func instance() throws -> Instance {
        try Instance(
            bids: (0..<bidCount).map { Instance.Bid(id: "b\($0)") },
            experts: (0..<expertCount).map { Instance.Expert(id: "e\($0)", organisation: "o\(organisationOfExpert[$0])", load: Self.load) },
            affinities: affinities.map { Instance.Affinity(expert: "e\($0.0)", bid: "b\($0.1)", value: Int($0.2)) },
            conflicts: conflicts.map { Instance.Conflict(expert: "e\($0.0)", bid: "b\($0.1)") },
            panelSize: Self.panelSize)
    }

    /// Writes `meta.txt` (bids experts organisations k load) and Int32 arrays: `organisation.i32`,
    /// `affinity.i32` (expert, bid, affinity triples), `conflict.i32` (expert, bid pairs).
    func export(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func write(_ values: [Int32], _ name: String) throws {
            let data = values.withUnsafeBufferPointer { Data(buffer: $0) }
            try data.write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
        }
        try Data("\(bidCount) \(expertCount) \(Self.organisations) \(Self.panelSize) \(Self.load)\n".utf8)
            .write(to: URL(fileURLWithPath: directory).appendingPathComponent("meta.txt"))
        try write(organisationOfExpert, "organisation.i32")
        try write(affinities.flatMap { [$0.0, $0.1, $0.2] }, "affinity.i32")
        try write(conflicts.flatMap { [$0.0, $0.1] }, "conflict.i32")
    }
}

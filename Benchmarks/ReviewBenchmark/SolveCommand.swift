import Foundation
import ReviewSolver

/// `solve INSTANCE.json [--q Q] [--seed S] [--samples N --samples-out FILE] --out OUT`: the solver on
/// its own. For `q = 1` writes the optimum's assignments and objective; for `q < 1` the fractional
/// solution `x`, its expected affinity and the share of the deterministic optimum; with `--samples`,
/// N draws with seeds S, S+1, … one JSON object per line.
enum SolveCommand {
    static func run(_ arguments: ArraySlice<String>) throws {
        let options = try Options(arguments, allowed: ["q", "seed", "samples", "samples-out", "out"])
        guard options.positional.count == 1, let path = options.positional.first else { throw CommandFailure.usage("solve needs one INSTANCE.json") }
        guard let out = options.values["out"] else { throw CommandFailure.usage("solve needs --out") }
        let seed = try options.integer("seed") ?? 0
        let samples = try options.integer("samples") ?? 0
        let samplesOut = options.values["samples-out"]
        guard samples == 0 || samplesOut != nil else { throw CommandFailure.usage("--samples needs --samples-out") }
        let cap = try options.values["q"].map { (text: String) throws(CommandFailure) in try InstanceJSON.rational(text, "--q") }
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure.usage("cannot read \(path)") }
        let instance = try InstanceJSON.parse(data, cap: cap)

        let solution = try instance.solveFractional()
        var text: String
        if instance.cap == .one {
            let draw = solution.sample(seed: UInt64(seed))
            text = "{\"assignments\": \(InstanceJSON.pairs(draw.assignments))"
            if instance.alternates > 0 { text += ", \"alternates\": \(InstanceJSON.pairs(draw.alternates)), \"seed\": \(seed)" }
            text += ", \"objective\": \(solution.objectiveUnits)}\n"
        } else {
            let optimum = try instance.optimum()
            let percent = optimum.objectiveUnits == 0 ? 100 : 100 * solution.expectedAffinity / optimum.expectedAffinity
            let x = solution.probabilities.map { "[\(InstanceJSON.quoted($0.expert)), \(InstanceJSON.quoted($0.bid)), \($0.x)]" }
            text = "{\"q\": \(InstanceJSON.quoted(instance.cap.description)), \"objective\": \(solution.expectedAffinity), "
            text += "\"optimum\": \(optimum.objectiveUnits), \"percentOfOptimum\": \(percent), \"x\": [\(x.joined(separator: ", "))]}\n"
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: out))
        if let samplesOut, samples > 0 {
            var lines = ""
            for index in 0..<samples {
                let sampleSeed = UInt64(seed) &+ UInt64(index)
                let draw = solution.sample(seed: sampleSeed)
                lines += "{\"seed\": \(sampleSeed), \"fingerprint\": \"\(String(draw.fingerprint, radix: 16))\", \"assignments\": \(InstanceJSON.pairs(draw.assignments))"
                if instance.alternates > 0 { lines += ", \"alternates\": \(InstanceJSON.pairs(draw.alternates))" }
                lines += "}\n"
            }
            try Data(lines.utf8).write(to: URL(fileURLWithPath: samplesOut))
        }
    }
}

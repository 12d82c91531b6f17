import Foundation
import ReviewSolver

/// `bench`: a generated instance (10,000 bids × 3,000 experts, k = 5, load 20, 5% conflicts,
/// topic-based affinities), timed at q = 1 and q = 1/2 and for sampling; with `--export DIR` also
/// writes the instance as little-endian Int32 arrays for the OR-Tools reference
/// (`ortools_reference.py`). Prints one line of JSON figures last.
enum BenchCommand {
    static func run(_ arguments: ArraySlice<String>) throws {
        let options = try Options(arguments, allowed: ["seed", "bids", "experts", "export", "samples"])
        let seed = UInt64(try options.integer("seed") ?? 2026)
        let bidCount = try options.integer("bids") ?? 10_000
        let expertCount = try options.integer("experts") ?? 3_000
        let sampleCount = max(1, try options.integer("samples") ?? 10)
        let clock = ContinuousClock()

        let started = clock.now
        let generated = GeneratedInstance(seed: seed, bids: bidCount, experts: expertCount)
        let instance = try generated.instance()
        say("instance: \(bidCount) bids × \(expertCount) experts, k = 5, load 20, \(generated.conflicts.count) conflicts, \(generated.affinities.count) positive affinities (generated in \(seconds(clock.now - started)) s)")
        if let directory = options.values["export"] { try generated.export(to: directory) }

        var optimum: FractionalAssignment?
        let (solveOne, cpuOne) = try measure(clock) { optimum = try instance.optimum() }
        guard let optimum else { return }
        say("q = 1:   objective \(optimum.objectiveUnits), solve \(seconds(solveOne)) s (CPU \(cpuOne) s, \(optimum.model) model)")

        let halved = instance.with(cap: try Rational(1, 2))
        var solved: FractionalAssignment?
        let (solveHalf, cpuHalf) = try measure(clock) { solved = try halved.solveFractional() }
        guard let fractional = solved else { return }
        let percent = 100 * fractional.expectedAffinity / optimum.expectedAffinity
        say("q = 1/2: expected affinity \(fractional.expectedAffinity) (\(String(format: "%.2f", percent))% of the optimum), solve \(seconds(solveHalf)) s (CPU \(cpuHalf) s, \(fractional.model) model)")

        var draws: [Draw] = []
        let (sampling, _) = try measure(clock) { draws = (0..<sampleCount).map { fractional.sample(seed: UInt64($0)) } }
        let perSample = sampling / sampleCount
        let reproduced = try halved.verify(draws[0]) == .reproduced
        say("sample:  \(String(format: "%.3f", seconds(perSample))) s per draw (\(sampleCount) draws), verify reproduces draw 0: \(reproduced)")
        let memory = peakMemoryMiB()
        say("peak memory (VmHWM): \(memory) MiB")
        say("RESULT {\"objective\": \(optimum.objectiveUnits), \"solve_q1_s\": \(seconds(solveOne)), \"solve_q1_cpu_s\": \(cpuOne), \"solve_q05_s\": \(seconds(solveHalf)), \"solve_q05_cpu_s\": \(cpuHalf), \"sample_s\": \(seconds(perSample)), \"percent_q05\": \(percent), \"peak_mib\": \(memory)}")
    }

    /// Wall-clock time of `body`, and its CPU time in seconds (the machine is shared).
    /// Writes a line to standard output at once (print buffers when stdout is a file or pipe).
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// `export DIR`: only writes the benchmark's instance for the OR-Tools reference.
    static func export(_ arguments: ArraySlice<String>) throws {
        let options = try Options(arguments, allowed: ["seed", "bids", "experts"])
        guard options.positional.count == 1, let directory = options.positional.first else { throw CommandFailure.usage("export needs DIR") }
        let generated = GeneratedInstance(
            seed: UInt64(try options.integer("seed") ?? 2026), bids: try options.integer("bids") ?? 10_000,
            experts: try options.integer("experts") ?? 3_000)
        try generated.export(to: directory)
    }

    private static func measure(_ clock: ContinuousClock, _ body: () throws -> Void) throws -> (Duration, cpu: Double) {
        let start = clock.now
        let startCPU = cpuSeconds()
        try body()
        return (clock.now - start, ((cpuSeconds() - startCPU) * 1000).rounded() / 1000)
    }

    /// This thread's CPU time in seconds.
    private static func cpuSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return ((Double(whole) + Double(attoseconds) / 1e18) * 1000).rounded() / 1000
    }

    /// VmHWM from /proc/self/status, in MiB (0 where /proc is missing).
    static func peakMemoryMiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.split(separator: " ").compactMap { Int($0) }
            return (digits.first ?? 0) / 1024
        }
        return 0
    }
}

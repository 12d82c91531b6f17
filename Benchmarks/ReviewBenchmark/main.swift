// ReviewBenchmark: the review-assignment solver on its own (`solve`) and its benchmark (`bench`).
import Foundation
import ReviewSolver

let usageText = """
    usage:
      ReviewBenchmark solve INSTANCE.json [--q Q] [--seed S] [--samples N --samples-out SAMPLES.jsonl] --out OUT.json
      ReviewBenchmark bench [--seed S] [--bids 10000] [--experts 3000] [--export DIR] [--samples 10]
      ReviewBenchmark export DIR [--seed S] [--bids 10000] [--experts 3000]
    exit status: 0 done, 2 bad arguments or input, 3 infeasible (the message names the bids)
    """

/// A command-line failure: the message is printed, the status returned.
struct CommandFailure: Error {
    let message: String
    let status: Int32
    static func usage(_ text: String) -> CommandFailure { CommandFailure(message: "\(text)\n\(usageText)", status: 2) }
}

/// `--name value` options after positional arguments.
struct Options {
    var positional: [String] = []
    var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>, allowed: Set<String>) throws(CommandFailure) {
        var rest = arguments
        while let argument = rest.popFirst() {
            if argument.hasPrefix("--") {
                let name = String(argument.dropFirst(2))
                guard allowed.contains(name) else { throw .usage("unknown option \(argument)") }
                guard let value = rest.popFirst() else { throw .usage("\(argument) needs a value") }
                values[name] = value
            } else {
                positional.append(argument)
            }
        }
    }

    func integer(_ name: String) throws(CommandFailure) -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text), value >= 0 else { throw .usage("--\(name) must be a non-negative integer, got \(text)") }
        return value
    }
}

func run() -> Int32 {
    let arguments = CommandLine.arguments.dropFirst()
    do {
        switch arguments.first {
        case "solve": try SolveCommand.run(arguments.dropFirst())
        case "bench": try BenchCommand.run(arguments.dropFirst())
        case "export": try BenchCommand.export(arguments.dropFirst())
        default: throw CommandFailure.usage("expected a subcommand")
        }
        return 0
    } catch let failure as CommandFailure {
        FileHandle.standardError.write(Data("error: \(failure.message)\n".utf8))
        return failure.status
    } catch let error as ReviewSolverError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        if case .infeasible = error { return 3 }
        return 2
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        return 1
    }
}


exit(run())

#if FUZZING
    import Foundation

    /// libFuzzer's driver (from its runtime, linked by -sanitize=fuzzer).
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// libFuzzer's per-input hook, which its runtime requires: runs the target named by `JIEBANG_FUZZ_TARGET`.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let name = ProcessInfo.processInfo.environment["JIEBANG_FUZZ_TARGET"] ?? ""
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        FuzzTargets.all[name]?(bytes)
        return 0
    }

    /// The executable's entry point: SwiftPM links `main` to `<module>_main`, which hands over to libFuzzer's
    /// driver with the target named by `JIEBANG_FUZZ_TARGET`.
    @_cdecl("JiebangFuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
        let name = ProcessInfo.processInfo.environment["JIEBANG_FUZZ_TARGET"] ?? ""
        guard FuzzTargets.all[name] != nil else {
            fatalError("JIEBANG_FUZZ_TARGET must be one of \(FuzzTargets.all.keys.sorted().joined(separator: ", ")), not \(name)")
        }
        var count = argc
        var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
        return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
    }
#else
    import Foundation

    /// Without libFuzzer: replays the seeds and any files given, on every target (or `--target NAME`), and
    /// writes each target's seeds to `--seeds FOLDER/<target>/` for the fuzzer to start from.
    @main
    struct FuzzReplay {
        static func main() throws {
            var arguments = Array(CommandLine.arguments.dropFirst())
            var targets = FuzzTargets.all.keys.sorted()
            if let index = arguments.firstIndex(of: "--target"), index + 1 < arguments.count {
                targets = [arguments[index + 1]]
                arguments.removeSubrange(index...(index + 1))
            }
            if let index = arguments.firstIndex(of: "--seeds"), index + 1 < arguments.count {
                let folder = URL(fileURLWithPath: arguments[index + 1])
                for (target, seeds) in FuzzTargets.seeds {
                    let directory = folder.appending(path: target)
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    for (number, seed) in seeds.enumerated() {
                        try Data(seed.utf8).write(to: directory.appending(path: "seed-\(number)"))
                    }
                }
                return
            }
            var runs = 0
            for name in targets {
                guard let target = FuzzTargets.all[name] else {
                    FileHandle.standardError.write(Data("no fuzz target \(name)\n".utf8))
                    exit(2)
                }
                for seed in FuzzTargets.seeds[name] ?? [] {
                    target(Array(seed.utf8))
                    runs += 1
                }
                for path in arguments {
                    target(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
                    runs += 1
                }
            }
            print("replayed \(runs) inputs on \(targets.count) targets")
        }
    }
#endif

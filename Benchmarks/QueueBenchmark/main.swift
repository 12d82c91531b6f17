// The queue benchmark and the worker process the queue's process tests run.
//
//   swift run -c release QueueBenchmark bench [--jobs 20000] [--samples 200]
//   QueueBenchmark work --connection STR --database NAME ...   (used by tests)
//   QueueBenchmark cron --connection STR --database NAME ...   (used by tests)
import Foundation

let arguments = Arguments(CommandLine.arguments.dropFirst(2))
switch CommandLine.arguments.dropFirst().first {
case "work":
    try await runWorker(arguments)
case "cron":
    try await runCron(arguments)
case "bench":
    try await runBenchmark(arguments)
default:
    FileHandle.standardError.write(Data("usage: QueueBenchmark bench|work|cron [--option value]...\n".utf8))
    exit(2)
}

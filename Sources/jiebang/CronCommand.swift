import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang cron [SCAN [--at TIME]]`: lists the reminder scans, or runs one as of a moment, so a system
/// timer or a Kubernetes CronJob can drive them (`jiebang work` also runs them from the queue's cron).
struct CronCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron", abstract: "List the reminder scans, or run one now (or as of --at).")

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The scan to run; without one, the scans are listed.")
    var scan: String?

    @Option(name: .long, help: "Evaluate the scan as of this time (ISO 8601, for example 2026-12-01T09:00:00+08:00); default now.")
    var at: String?

    func run() async throws {
        guard let scan else {
            for scan in ReminderScan.allCases {
                print("\(scan.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)) \(scan.summary)")
            }
            return
        }
        guard let which = ReminderScan(rawValue: scan) else {
            throw CommandFailure(
                "there is no scan \"\(scan)\"; the scans are \(ReminderScan.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let moment = try at.map(Self.parseTime) ?? Date()
        let settings = try database.settings()
        let (outcome, elapsed) = try await settings.withDatabase(maximumConnections: 2) { client in
            try await JiebangSchema.migrator(client: client, logger: settings.logger("jiebang.migrate")).migrate()
            let started = ContinuousClock.now
            let outcome = try await client.withTransaction { try await which.run(at: moment, on: $0) }
            return (outcome, ContinuousClock.now - started)
        }
        let milliseconds = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        print(
            "\(which.rawValue) as of \(ISO8601DateFormatter().string(from: moment)): \(outcome) "
                + "in \(String(format: "%.1f", milliseconds)) ms")
    }

    /// An ISO 8601 time with its offset, with or without fractional seconds.
    static func parseTime(_ text: String) throws -> Date {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: text) ?? fractional.date(from: text),
            (946_684_800.0...7_258_118_400.0).contains(date.timeIntervalSince1970)
        else {
            throw CommandFailure("--at: \"\(text)\" is not a time between 2000 and 2200 such as 2026-12-01T09:00:00+08:00")
        }
        return date
    }
}

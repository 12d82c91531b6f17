import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang migrate`: applies pending migrations and due definition files, or lists both with `--status`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending database migrations and definition files (or list them with --status).")

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "List every migration and definition file with its state; change nothing.")
    var status = false

    func run() async throws {
        let settings = try database.settings()
        let logger = settings.logger("jiebang.migrate")
        try await settings.withDatabase(maximumConnections: 2) { client in
            let migrator = try JiebangSchema.migrator(client: client, logger: logger)
            if status {
                let formatter = ISO8601DateFormatter()
                print("VERSION  STATE    APPLIED AT            NAME")
                for entry in try await migrator.status() {
                    let version = String(format: "%04d", entry.version)
                    let state = entry.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                    let at = (entry.appliedAt.map { formatter.string(from: $0) } ?? "-")
                        .padding(toLength: 20, withPad: " ", startingAt: 0)
                    print("\(version)     \(state) \(at)  \(entry.name)")
                }
                print("")
                print("DEFINITION       STATE    APPLIED AT")
                for entry in try await migrator.definitionStatus() {
                    let name = (entry.name + ".sql").padding(toLength: 16, withPad: " ", startingAt: 0)
                    let state = entry.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                    let at = entry.appliedAt.map { formatter.string(from: $0) } ?? "-"
                    print("\(name) \(state) \(at)")
                }
            } else {
                let outcome = try await migrator.apply()
                if outcome.migrations.isEmpty && outcome.definitions.isEmpty {
                    print("The database is up to date.")
                } else {
                    print("Applied \(outcome.migrations.count) migration(s) and \(outcome.definitions.count) definition file(s).")
                }
            }
        }
    }
}

import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang migrate`: applies pending migrations, or lists them with `--status`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending database migrations (or list them with --status).")

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "List every migration and its state; change nothing.")
    var status = false

    func run() async throws {
        let settings = try database.settings()
        let logger = settings.logger("jiebang.migrate")
        try await settings.withDatabase(maximumConnections: 2) { client in
            let migrator = try Migrator(client: client, migrations: JiebangSchema.migrations(), logger: logger)
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
            } else {
                let applied = try await migrator.migrate()
                print(applied.isEmpty ? "The database is up to date." : "Applied \(applied.count) migration(s).")
            }
        }
    }
}

import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang seed-demo`: loads the 2025 Gansu programme with units, demands and challenges.
struct SeedDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-demo",
        abstract: "Load a realistic demo programme (2025 甘肃省产业科技创新揭榜挂帅) unless it is there.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let settings = try database.settings()
        let loaded = try await settings.withDatabase(maximumConnections: 2) { client in
            try await Migrator(client: client, migrations: JiebangSchema.migrations(), logger: settings.logger("jiebang.migrate"))
                .migrate()
            return try await client.withTransaction { try await DemoData.load(on: $0) }
        }
        print(loaded ? "Loaded the demo programme \(DemoData.programmeName)." : "The demo programme is already there.")
    }
}

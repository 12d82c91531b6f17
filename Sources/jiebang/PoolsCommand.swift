import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang pools rematch`: recomputes every match between the demand pool and the result pool now, as the
/// nightly `pools.rematch_all` job does (after an upgrade, so the records filed before are matched at once).
struct PoolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pools", abstract: "The demand and result pools (需求库, 成果库).", subcommands: [Rematch.self])

    struct Rematch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every match between demands and results now (the nightly job's full run).")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let settings = try database.settings()
            let run = try await settings.withDatabase(maximumConnections: 2) { client in
                try await JiebangSchema.migrator(client: client, logger: settings.logger("jiebang.migrate")).migrate()
                return try await client.withTransaction { try await PoolMatches.rematchAll(on: $0) }
            }
            print(run)
        }
    }
}

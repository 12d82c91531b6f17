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

    @Option(
        name: .customLong("accounts-password"),
        help:
            "Also create the demo's people (demo.publisher, demo.lanzhou, demo.unit, demo.expert) with this password (env JIEBANG_DEMO_PASSWORD)."
    )
    var accountsPassword: String?

    func run() async throws {
        let settings = try database.settings()
        let password = accountsPassword ?? ProcessInfo.processInfo.environment["JIEBANG_DEMO_PASSWORD"]
        if let password {
            do {
                try PasswordHasher().validate(password, personal: DemoData.accounts.map { $0.login })
            } catch {
                throw ValidationError("--accounts-password: the password \(error)")
            }
        }
        let (loaded, accounts) = try await settings.withDatabase(maximumConnections: 2) { client in
            try await JiebangSchema.migrator(client: client, logger: settings.logger("jiebang.migrate"))
                .migrate()
            return try await client.withTransaction { tx in
                let loaded = try await DemoData.load(on: tx)
                let accounts = try await password.asyncMap {
                    try await DemoData.loadAccounts(password: $0, hasher: PasswordHasher(), on: tx)
                }
                return (loaded, accounts ?? [])
            }
        }
        print(loaded ? "Loaded the demo programme \(DemoData.programmeName)." : "The demo programme is already there.")
        if !accounts.isEmpty { print("Created the demo accounts \(accounts.joined(separator: ", ")).") }
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

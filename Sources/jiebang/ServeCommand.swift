import ArgumentParser
import Foundation
import Hummingbird
import Jiebang
import JiebangHTTP
import Logging
import Postgres

/// `jiebang serve`: migrates the database and serves the API until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API. With no DATABASE_URL, runs a private PostgreSQL in the data folder.")

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "Address to listen on (env JIEBANG_HOST).")
    var hostname: String?

    @Option(name: .long, help: "Port to listen on (env JIEBANG_PORT).")
    var port: Int?

    @Flag(name: .customLong("no-migrate"), help: "Do not apply pending migrations; refuse to start if any are pending.")
    var noMigrate = false

    func run() async throws {
        let settings = try database.settings()
        let logger = settings.logger("jiebang")
        let portText = settings.environment["JIEBANG_PORT"]
        guard let port = port ?? (portText.map { Int($0) } ?? 8080), (1...65535).contains(port) else {
            throw CommandFailure("JIEBANG_PORT: \(portText ?? "") is not a port number (1-65535)")
        }
        let http = HTTPConfiguration(hostname: hostname ?? settings.environment["JIEBANG_HOST"] ?? "127.0.0.1", port: port)

        let (client, startedCluster) = try await settings.openDatabase()
        do {
            try await prepareSchema(client, migrate: !noMigrate, logger: logger)
            let app = buildApplication(configuration: http, database: client, logger: logger)
            try await app.runService()
        } catch {
            await client.close()
            try? startedCluster?.stop()
            throw error
        }
        try startedCluster?.stop()
    }

    private func prepareSchema(_ client: PostgresClient, migrate: Bool, logger: Logger) async throws {
        let migrator = try Migrator(client: client, migrations: JiebangSchema.migrations(), logger: logger)
        if migrate {
            try await migrator.migrate()
            return
        }
        let statuses = try await migrator.status()
        if let problem = statuses.first(where: { $0.state == .pending || $0.state == .edited }) {
            throw CommandFailure(
                "migration \(problem.version) (\(problem.name)) is \(problem.state.rawValue); run `jiebang migrate`")
        }
    }
}

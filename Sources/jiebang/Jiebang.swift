import ArgumentParser
import Foundation
import Jiebang
import JiebangHTTP
import Logging
import Metrics
import Postgres
import Prometheus

/// The `jiebang` command: the server, the workers and the operator's tools in one binary.
@main
struct JiebangCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jiebang",
        abstract: "揭榜挂帅: open competition for key technology tasks.",
        version: JiebangCommand.version,
        subcommands: [
            ServeCommand.self, WorkCommand.self, JobsCommand.self, UsersCommand.self, DemandsCommand.self, ResultsCommand.self,
            ExpertsCommand.self,
            SeedDemoCommand.self, MigrateCommand.self, DatabaseCommand.self, CronCommand.self, ReviewCommand.self,
            AuditCommand.self, PoolsCommand.self,
        ],
        defaultSubcommand: ServeCommand.self)

    /// The release and the schema it migrates to (the fingerprint of its migrations and definition files),
    /// printed by `jiebang --version`.
    static let version: String = {
        let schema = (try? JiebangSchema.fingerprint()).map { String($0.prefix(12)) } ?? "unreadable"
        let migrations = (try? JiebangSchema.migrations().last?.version).flatMap { $0 }.map { "\($0)" } ?? "?"
        return "jiebang 0.15.0 (schema \(schema), migration \(migrations))"
    }()
}

/// Options every command that touches the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("data-dir"),
        help: "Folder of the embedded PostgreSQL, used when DATABASE_URL and PG* are unset (env JIEBANG_DATA_DIR).")
    var dataDirectory: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (env LOG_LEVEL).")
    var logLevel: String?

    /// The settings read once from the environment and the options; bootstraps logging and metrics.
    ///
    /// Call once per process.
    func settings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
        let levelText = logLevel ?? environment["LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw CommandFailure("--log-level: \(levelText) is not one of trace, debug, info, notice, warning, error")
        }
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))
        return Settings(
            environment: environment,
            metrics: metrics,
            dataDirectory: URL(fileURLWithPath: dataDirectory ?? environment["JIEBANG_DATA_DIR"] ?? ".jiebang"),
            logLevel: level)
    }
}

/// A failure the CLI reports as one line and a non-zero exit.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

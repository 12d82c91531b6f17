import ArgumentParser
import Foundation
import Hummingbird
import Jiebang
import JiebangHTTP
import JobQueue
import Logging
import Postgres
import Workers

/// `jiebang work`: runs the job workers, queue maintenance and cron, until SIGTERM or SIGINT.
struct WorkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "work",
        abstract: "Run the background job workers (and /healthz, /readyz, /metrics on the worker port).")

    @OptionGroup var database: DatabaseOptions

    @Option(
        name: .long,
        help: "Queues and their concurrency, e.g. default=100,reminders=10 (env JIEBANG_QUEUES).")
    var queues: String?

    @Option(name: .long, help: "Address for health and metrics (env JIEBANG_HOST).")
    var hostname: String?

    @Option(name: .long, help: "Port for health and metrics (env JIEBANG_WORKER_PORT, default 8081).")
    var port: Int?

    func run() async throws {
        let settings = try database.settings()
        var configuration = WorkerConfiguration()
        if let text = queues ?? settings.environment["JIEBANG_QUEUES"] {
            configuration.queues = try Self.parseQueues(text)
        }
        let address = try settings.http(hostname: hostname, port: port, defaultPort: 8081, portVariable: "JIEBANG_WORKER_PORT")
        let logger = settings.logger("jiebang.jobs")
        let smtp = try settings.smtp()
        let secretsKey = try settings.configuredSecretsKey()
        let retiredSecretsKeys = try settings.retiredSecretsKeys()
        try await settings.withDatabase(maximumConnections: min(50, configuration.queues.values.reduce(4, +))) { client in
            try await JiebangSchema.migrator(client: client, logger: logger).migrate()
            let keys = try await settings.secretsKeys(configured: secretsKey, retired: retiredSecretsKeys, client, logger: logger)
            let services = buildWorkerServices(
                configuration: configuration, database: client, jobs: JobClient(),
                registry: ProductJobs.registry(smtp: smtp, secretsKeys: keys),
                schedules: ProductJobs.schedules(), logger: logger)
            let app = buildOperationsApplication(
                configuration: HTTPConfiguration(hostname: address.hostname, port: address.port), database: client,
                metrics: settings.metrics, services: services, logger: logger)
            try await settings.runUntilSignalled(app, logger: logger)
        }
    }

    /// Parses `name=count,name=count`.
    static func parseQueues(_ text: String) throws -> [String: Int] {
        var queues: [String: Int] = [:]
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2, !pieces[0].isEmpty, pieces[0].count <= 128, let count = Int(pieces[1]), (1...1000).contains(count)
            else {
                throw CommandFailure("--queues: \(part) is not name=count with a count from 1 to 1000")
            }
            queues[pieces[0]] = count
        }
        guard !queues.isEmpty else { throw CommandFailure("--queues: name at least one queue, e.g. default=100") }
        return queues
    }
}

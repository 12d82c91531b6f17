import ArgumentParser
import Foundation
import Postgres

/// `jiebang db start|stop|status`: the embedded PostgreSQL cluster.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Manage the embedded PostgreSQL cluster in the data folder.",
        subcommands: [Start.self, Stop.self, Status.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create (if needed) and start the cluster.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let cluster = try database.settings().cluster()
            do {
                let started = try await cluster.start()
                print(started ? "started" : "already running")
                print("DATABASE_URL=\"\(cluster.connectionString())\"")
            } catch let failure as PostgresCluster.Failure {
                throw CommandFailure(failure.description)
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the cluster; its data stays.")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let cluster = try database.settings().cluster()
            do {
                try cluster.stop()
                print("stopped")
            } catch let failure as PostgresCluster.Failure {
                throw CommandFailure(failure.description)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print whether the cluster runs; exit 3 when it does not.")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let cluster = try database.settings().cluster()
            let status = try cluster.status()
            switch status {
            case .running:
                print("running in \(cluster.directory.path)")
                print("DATABASE_URL=\"\(cluster.connectionString())\"")
            case .stopped:
                print("stopped (\(cluster.directory.path))")
                throw ExitCode(3)
            case .notInitialized:
                print("not created yet (\(cluster.directory.path))")
                throw ExitCode(3)
            }
        }
    }
}

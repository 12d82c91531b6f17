import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang audit verify` and `jiebang audit seal`: the audit trail's hash chain.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit trail's hash chain: seal committed entries, verify the chain.",
        subcommands: [Verify.self, Seal.self])

    /// Recomputes the chain from the audit log's rows.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Recompute the audit chain from the log's rows and name the first entry edited, deleted, inserted or reordered.",
            discussion: "Prints the chain's head (seq:hash, as printed on published notices). Exits 0 when the chain holds, 1 otherwise.")

        @OptionGroup var database: DatabaseOptions

        @Option(name: .long, help: "Seconds after which an entry below a seal must be sealed itself (default 3600).")
        var settle: Int = 3_600

        func validate() throws {
            guard settle >= 0 else { throw ValidationError("--settle must not be negative, not \(settle)") }
        }

        func run() async throws {
            let settings = try database.settings()
            let report = try await settings.withDatabase(maximumConnections: 2) { client in
                try await JiebangSchema.migrator(client: client, logger: settings.logger("jiebang.migrate")).migrate()
                return try await client.withConnection { try await AuditChain.verify(settle: .seconds(settle), on: $0) }
            }
            print("audit chain head \(report.head): \(report.sealed) entries sealed, \(report.unsealed) not sealed yet")
            if let problem = report.problem {
                print("audit chain broken: \(problem)")
                throw ExitCode(1)
            }
            print("audit chain holds")
        }
    }

    /// Seals the committed entries not in the chain yet (the `audit.seal` job does this every minute).
    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seal", abstract: "Add the committed audit entries not in the chain yet to it, and print the head.",
            discussion: "Runs against a migrated database and does not migrate it (a migration takes table locks writers wait for).")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let settings = try database.settings()
            // No migration first: a migration's definition files take table locks that would stall writers, and
            // a sealer runs often. The schema must be migrated already (`jiebang migrate`, or any server start).
            let (sealed, head) = try await settings.withDatabase(maximumConnections: 2) { client in
                var total = 0
                while true {
                    let sealed = try await client.withTransaction { try await AuditChain.seal(on: $0) }
                    total += sealed
                    if sealed == 0 { break }
                }
                return (total, try await client.withConnection { try await AuditChain.head(on: $0) })
            }
            print("sealed \(sealed) entries; audit chain head \(head)")
        }
    }
}

import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang review verify-draw ROUND [--draw N]`: recomputes a recorded draw and confirms it is the
/// assignment that was applied; `jiebang review verify-acceptance-draw ACCEPTANCE` does the same for an
/// acceptance's experts.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Review rounds and acceptances: verify a draw.",
        subcommands: [VerifyDraw.self, VerifyAcceptanceDraw.self])

    /// Recomputes a draw from its recorded inputs, q and revealed seed.
    struct VerifyDraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-draw",
            abstract: "Recompute a round's draw from its recorded inputs, q and revealed seed, and compare it with what was applied.",
            discussion: "Exits 0 when the draw checks out, 1 on any mismatch.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The review round's id.")
        var round: Int

        @Option(name: .long, help: "The draw's number; default the applied draw (else the latest).")
        var draw: Int?

        func validate() throws {
            guard round > 0 else { throw ValidationError("ROUND must be a positive id, not \(round)") }
            if let draw, draw <= 0 { throw ValidationError("--draw must be a positive number, not \(draw)") }
        }

        func run() async throws {
            let settings = try database.settings()
            let (number, finding) = try await settings.withDatabase(maximumConnections: 2) { client in
                try await JiebangSchema.migrator(client: client, logger: settings.logger("jiebang.migrate")).migrate()
                return try await client.withConnection { db in
                    do {
                        var number = draw ?? 0
                        if number == 0 { number = try await ReviewDrawCheck.defaultDraw(roundID: round, on: db) }
                        return (number, try await ReviewDrawCheck.verify(roundID: round, number: number, on: db))
                    } catch let error as DomainError {
                        throw CommandFailure(error.description)
                    }
                }
            }
            print("review round \(round), draw \(number): \(finding)")
            guard finding.isSound else { throw ExitCode(1) }
        }
    }

    struct VerifyAcceptanceDraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-acceptance-draw",
            abstract:
                "Recompute an acceptance's expert draw from its recorded inputs and revealed seed, and compare it with the panel seated.",
            discussion: "Exits 0 when the draw checks out, 1 on any mismatch.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The acceptance's id.")
        var acceptance: Int

        func validate() throws {
            guard acceptance > 0 else { throw ValidationError("ACCEPTANCE must be a positive id, not \(acceptance)") }
        }

        func run() async throws {
            let settings = try database.settings()
            let finding = try await settings.withDatabase(maximumConnections: 2) { client in
                try await JiebangSchema.migrator(client: client, logger: settings.logger("jiebang.migrate")).migrate()
                return try await client.withConnection { db in
                    do {
                        return try await AcceptanceDrawCheck.verify(acceptanceID: acceptance, on: db)
                    } catch let error as DomainError {
                        throw CommandFailure(error.description)
                    }
                }
            }
            print("acceptance \(acceptance): \(finding)")
            guard finding.isSound else { throw ExitCode(1) }
        }
    }
}

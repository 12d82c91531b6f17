import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang demands import FILE`: imports the demand table (CSV with its Chinese headers).
struct DemandsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demands", abstract: "Manage technology demands (技术需求).", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CSV of demands; every bad row is reported and nothing is written if any row fails.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The CSV file (UTF-8, with or without a byte-order mark).")
        var file: String

        @Option(name: .long, help: "The programme the demands are collected for.")
        var programme: Int?

        @Option(name: .long, help: "The bureau filing on the enterprises' behalf.")
        var bureau: Int?

        func run() async throws {
            let settings = try database.settings()
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("\(file): cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure("\(file): is not UTF-8 text (save it from Excel as \"CSV UTF-8\")")
            }
            let rows: [DemandImport.Row]
            switch DemandImport.parse(text) {
            case .success(let parsed): rows = parsed
            case .failure(let failure): throw CommandFailure(Self.report(failure, file: file))
            }
            let total = rows.count
            let outcome: Result<[Int], DemandImport.Failure>
            do {
                outcome = try await settings.withDatabase(maximumConnections: 2) { client in
                    try await client.withTransaction { tx -> Result<[Int], DemandImport.Failure> in
                        let result = try await DemandStore.importRows(
                            rows, programmeID: programme, bureauID: bureau, actor: "jiebang demands import", on: tx
                        ) { done in
                            FileHandle.standardError.write(Data("\rimported \(done) of \(total) rows".utf8))
                        }
                        // Any failure rolls the whole file back.
                        if case .failure(let failure) = result { throw failure }
                        return result
                    }
                }
            } catch let failure as DemandImport.Failure {
                throw CommandFailure(Self.report(failure, file: file))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            if case .success(let ids) = outcome { print("Imported \(ids.count) demands from \(file).") }
        }

        /// Every error on its own line, under a count: the CLI's message when a file is refused.
        static func report(_ failure: DemandImport.Failure, file: String) -> String {
            "\(file): \(failure.errors.count) error(s), nothing imported\n" + failure.description
        }
    }
}

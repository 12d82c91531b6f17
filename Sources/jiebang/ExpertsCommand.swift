import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang experts import FILE --bureau ID`: imports an expert table (CSV with Chinese headers) into a
/// provincial bureau's pool.
struct ExpertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experts", abstract: "Manage the expert pool (专家库).", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CSV of experts; every bad row is reported and nothing is written if any row fails.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The CSV file (UTF-8, with or without a byte-order mark).")
        var file: String

        @Option(name: .long, help: "The provincial bureau whose pool the experts join.")
        var bureau: Int

        @Option(name: .long, help: "Print progress every N rows.")
        var progressEvery: Int = 100

        func run() async throws {
            guard bureau > 0 else { throw CommandFailure("--bureau: must be a bureau's id") }
            guard progressEvery > 0 else { throw CommandFailure("--progress-every: must be a positive whole number") }
            let settings = try database.settings()
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("\(file): cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure("\(file): is not UTF-8 text (save it from Excel as \"CSV UTF-8\")")
            }
            let rows: [ExpertImport.Row]
            switch ExpertImport.parse(text) {
            case .success(let parsed): rows = parsed
            case .failure(let failure): throw CommandFailure(Self.report(failure, file: file))
            }
            let total = rows.count
            let summary: ExpertImport.Summary
            do {
                summary = try await settings.withDatabase(maximumConnections: 2) { client in
                    try await client.withTransaction { tx -> ExpertImport.Summary in
                        let result = try await ExpertStore.importRows(
                            rows, bureauID: bureau, actor: "jiebang experts import", on: tx, progressEvery: progressEvery
                        ) { done in
                            FileHandle.standardError.write(Data("imported \(done) of \(total) rows\n".utf8))
                        }
                        // Any failure rolls the whole file back.
                        switch result {
                        case .success(let summary): return summary
                        case .failure(let failure): throw failure
                        }
                    }
                }
            } catch let failure as ExpertImport.Failure {
                throw CommandFailure(Self.report(failure, file: file))
            } catch let error as DomainError {
                throw CommandFailure("\(file): nothing imported: \(error.description)")
            }
            print(
                "Imported \(summary.rows) experts from \(file): \(summary.created) created, \(summary.updated) updated, "
                    + "\(summary.ties) ties.")
        }

        /// Every error on its own line, under a count: the CLI's message when a file is refused.
        static func report(_ failure: ExpertImport.Failure, file: String) -> String {
            "\(file): \(failure.errors.count) error(s), nothing imported\n" + failure.description
        }
    }
}

import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang results import FILE`: imports a result table (CSV with its Chinese headers) into the result pool.
struct ResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results", abstract: "Manage the result pool (成果库).", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CSV of results; every bad row is reported and nothing is written if any row fails.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The CSV file (UTF-8, with or without a byte-order mark).")
        var file: String

        @Option(name: .long, help: "The bureau filing on the universities' and institutes' behalf.")
        var bureau: Int?

        func run() async throws {
            let settings = try database.settings()
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("\(file): cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure("\(file): is not UTF-8 text (save it from Excel as \"CSV UTF-8\")")
            }
            let rows: [ResultImport.Row]
            switch ResultImport.parse(text) {
            case .success(let parsed): rows = parsed
            case .failure(let failure): throw CommandFailure(DemandsCommand.Import.report(failure, file: file))
            }
            let total = rows.count
            let ids: [Int]
            do {
                ids = try await settings.withDatabase(maximumConnections: 2) { client in
                    try await client.withTransaction { tx -> [Int] in
                        let result = try await ResultStore.importRows(rows, by: nil, bureauID: bureau, on: tx) { done in
                            FileHandle.standardError.write(Data("\rimported \(done) of \(total) rows".utf8))
                        }
                        // Any failure rolls the whole file back.
                        switch result {
                        case .success(let ids): return ids
                        case .failure(let failure): throw failure
                        }
                    }
                }
            } catch let failure as ResultImport.Failure {
                throw CommandFailure(DemandsCommand.Import.report(failure, file: file))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            print("Imported \(ids.count) results from \(file).")
        }
    }
}

import Foundation
import PackagePlugin

/// Embeds the package's SQL into the target it is applied to: every `SQL/migrations/*.sql` file as
/// `EmbeddedMigrations.files` and every `SQL/definitions/*.sql` file as `EmbeddedDefinitions.files`.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let sql = context.package.directoryURL.appending(path: "SQL")
        return try [
            command(context: context, folder: sql.appending(path: "migrations"), enumName: "EmbeddedMigrations"),
            command(context: context, folder: sql.appending(path: "definitions"), enumName: "EmbeddedDefinitions"),
        ]
    }

    private func command(context: PluginContext, folder: URL, enumName: String) throws -> Command {
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "\(enumName).swift")
        return .buildCommand(
            displayName: "Embedding \(files.count) SQL files of \(folder.lastPathComponent)",
            executable: try context.tool(named: "EmbedSQL").url,
            // The folder, not the files: the tool lists it when it runs, so a file added since this
            // plugin ran is embedded by the build that sees the folder change (an input below).
            arguments: [output.path, enumName, folder.path],
            inputFiles: files + [folder],
            outputFiles: [output]
        )
    }
}

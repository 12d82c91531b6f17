import Foundation
import PackagePlugin

/// Embeds every `SQL/migrations/*.sql` file of the package into the target it is applied to.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "SQL").appending(path: "migrations")
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) SQL migrations",
                executable: try context.tool(named: "EmbedSQL").url,
                // The folder, not the files: the tool lists it when it runs, so a file added since this
                // plugin ran is embedded by the build that sees the folder change (an input below).
                arguments: [output.path, directory.path],
                inputFiles: files + [directory],
                outputFiles: [output]
            )
        ]
    }
}

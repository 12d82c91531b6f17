import ArgumentParser
import Foundation
import Jiebang
import Postgres

/// `jiebang users create-admin`: creates the first system administrator.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage user accounts.", subcommands: [CreateAdmin.self])

    struct CreateAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-admin",
            abstract: "Create a system administrator. The password comes from JIEBANG_ADMIN_PASSWORD or standard input.")

        @OptionGroup var database: DatabaseOptions

        @Option(name: .long, help: "The login (an e-mail address or a phone number).")
        var login: String

        @Option(name: .long, help: "The name shown in the audit log.")
        var name: String

        func run() async throws {
            let settings = try database.settings()
            let hasher = PasswordHasher()
            let password = try Self.readPassword(environment: settings.environment)
            do {
                try hasher.validate(password, personal: [login, name])
            } catch {
                throw CommandFailure("password: \(error)")
            }
            let hash = try hasher.hash(password)
            let id = try await settings.withDatabase(maximumConnections: 2) { client in
                try await JiebangSchema.migrator(client: client).migrate()
                do {
                    return try await client.withTransaction { tx in
                        try await AccountStore.createUser(
                            .init(login: login, displayName: name, role: .systemAdmin), passwordHash: hash,
                            by: "jiebang users create-admin",
                            on: tx)
                    }
                } catch let error as AccountError {
                    throw CommandFailure("\(error.field): \(error)")
                }
            }
            print("Created system administrator \(login.lowercased()) (user \(id)).")
        }

        static func readPassword(environment: [String: String]) throws -> String {
            if let password = environment["JIEBANG_ADMIN_PASSWORD"], !password.isEmpty { return password }
            if isatty(0) != 0, let typed = getpass("Password: ") {
                return String(cString: typed)
            }
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CommandFailure("password: give it in JIEBANG_ADMIN_PASSWORD or on standard input")
            }
            return line
        }
    }
}

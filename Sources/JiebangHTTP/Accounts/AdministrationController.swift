import Hummingbird
import Jiebang
import Postgres

/// Bureaus and users: `POST /v1/bureaus` (system admin), `POST /v1/users` (system admin, or a unit admin for their unit).
struct AdministrationController {
    let database: PostgresClient
    let passwords: PasswordHashingPool

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/bureaus", use: registerBureau)
        router.post("v1/users", use: createUser)
    }

    @Sendable func registerBureau(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var request = request
        let (input, body) = try await request.decodeJSON(AccountAdministration.BureauInput.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let bureau = try await AccountAdministration.registerBureau(input, by: actor, on: tx)
            return try JSONAnswer(bureau, status: .created, location: "/v1/bureaus/\(bureau.id)", context: context)
        }
    }

    @Sendable func createUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var request = request
        let (input, body) = try await request.decodeJSON(AccountAdministration.UserInput.self, context: context)
        let password = try await NewPassword.prepare(
            input.password, personal: [input.login, input.displayName, input.email], on: passwords)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let user = try await AccountAdministration.createUser(input, password: password, by: actor, on: tx)
            return try JSONAnswer(user, status: .created, location: "/v1/users/\(user.id)", context: context)
        }
    }
}

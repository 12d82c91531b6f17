import Foundation
import Hummingbird
import Jiebang
import Postgres

/// Signing in and out, and who the token stands for: `/v1/sessions`, `/v1/me`.
struct SessionController {
    let database: PostgresClient
    let signIn: PasswordSignIn

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/sessions", use: signIn)
        router.delete("v1/sessions/current", use: signOut)
        router.get("v1/me", use: me)
        router.put("v1/me/email", use: setEmail)
        router.delete("v1/me/email", use: clearEmail)
        router.put("v1/me/password", use: changePassword)
    }

    struct PasswordChange: Decodable {
        var currentPassword: String
        var newPassword: String
    }

    /// Changes the signed-in user's password, revokes every session of the user (this one too) and
    /// answers 200 with a new session token; every other session and API token is revoked.
    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var request = request
        let (input, _) = try await request.decodeJSON(PasswordChange.self, context: context)
        let session = try await signIn.changePassword(
            of: actor, current: input.currentPassword, new: input.newPassword, address: context.clientAddress)
        return try JSONAnswer(SessionView(token: session.token.value, expiresAt: session.expiresAt, user: session.user), context: context)
            .response
    }

    struct EmailInput: Decodable {
        var email: String
    }

    struct Credentials: Decodable {
        var login: String
        var password: String
    }

    struct SessionView: Encodable {
        var token: String
        var expiresAt: Date
        var user: AccountAdministration.User
    }

    /// Checks a login and password and answers 201 with a bearer token (shown once); 429 with
    /// `Retry-After` while the login or the address must wait (``SignInThrottle``); 503 with
    /// `Retry-After` when too many sign-ins wait for the password check.
    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let (credentials, _) = try await request.decodeJSON(Credentials.self, context: context)
        let session = try await signIn.signIn(
            login: credentials.login, password: credentials.password, address: context.clientAddress)
        return try JSONAnswer(
            SessionView(token: session.token.value, expiresAt: session.expiresAt, user: session.user), status: .created,
            context: context
        ).response
    }

    /// Revokes the token the request was sent with.
    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireActor()
        if let token = context.token {
            try await database.withConnection { _ = try await AccountStore.revoke(token, on: $0) }
        }
        return Response(status: .noContent)
    }

    /// The signed-in user.
    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let user = try await database.withConnection { try await AccountAdministration.user(id: actor.userID, on: $0) }
        return try JSONAnswer(user, context: context).response
    }

    /// Sets the signed-in user's e-mail address; new notifications are e-mailed there too.
    @Sendable func setEmail(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var request = request
        let (input, _) = try await request.decodeJSON(EmailInput.self, context: context)
        let user = try await database.withTransaction { try await AccountAdministration.setEmail(input.email, by: actor, on: $0) }
        return try JSONAnswer(user, context: context).response
    }

    /// Removes the signed-in user's e-mail address: notifications stay in the inbox only.
    @Sendable func clearEmail(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let user = try await database.withTransaction { try await AccountAdministration.setEmail(nil, by: actor, on: $0) }
        return try JSONAnswer(user, context: context).response
    }
}

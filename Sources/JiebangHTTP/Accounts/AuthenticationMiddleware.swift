import Foundation
import Hummingbird
import Jiebang
import Logging
import Postgres

/// Reads `Authorization: Bearer <token>` and puts the actor it stands for into the context.
///
/// A request without the header goes on anonymously (each route decides whether that is
/// enough); a token that is unknown, expired or revoked is refused with 401 at once, and an API token
/// without the write scope is refused with 403 on any method but GET and HEAD. The lookup only
/// reads: a due `last_used_at` stamp goes to the ``TokenUseRecorder``, which writes stamps in batches.
struct AuthenticationMiddleware: RouterMiddleware {
    let database: PostgresClient
    let tokenUses: TokenUseRecorder

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw Self.refusal("The Authorization header must be Bearer <token>.")
        }
        let token = AccessToken(value: String(parts[1].trimmingWhiteSpace()))
        guard let use = try await database.withConnection({ try await AccountStore.identify(token, on: $0) }) else {
            throw Self.refusal("The token is unknown, expired or revoked; sign in again.")
        }
        if TokenScope.needsWrite(method: request.method.rawValue), !use.scopes.contains(.write) {
            throw Problem(
                status: .forbidden, title: "Forbidden",
                detail: "This API token may only read (scope read); \(request.method.rawValue) needs a token with the write scope.",
                errors: [.init(field: "Authorization", message: "the token lacks the write scope")])
        }
        if use.stampDue { tokenUses.record(tokenID: use.tokenID) }
        let actor = use.actor
        var context = context
        context.actor = actor
        context.token = token
        context.logger[metadataKey: "user.id"] = "\(actor.userID)"
        return try await next(request, context)
    }

    static func refusal(_ detail: String) -> Problem {
        Problem(status: .unauthorized, detail: detail)
    }
}

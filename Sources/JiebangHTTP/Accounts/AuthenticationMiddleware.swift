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
///
/// With `deferred`, the token is not looked up here: the context gets a ``TokenAdmission`` for a route whose
/// first statement looks the token up in the same round trip as its own read (the deadline rush's submit),
/// and the admission refuses in the same words.
struct AuthenticationMiddleware: RouterMiddleware {
    let database: PostgresClient
    let tokenUses: TokenUseRecorder
    /// Whether the lookup is left to the route (``AppRequestContext/tokenAdmission``).
    var deferred = false

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw Self.refusal("The Authorization header must be Bearer <token>.")
        }
        let token = AccessToken(value: String(parts[1].trimmingWhiteSpace()))
        let method = request.method.rawValue
        var context = context
        context.token = token
        if deferred {
            let tokenUses = tokenUses
            context.tokenAdmission = TokenAdmission(token: token) { use in try Self.admit(use, method: method, tokenUses: tokenUses) }
            return try await next(request, context)
        }
        let use = try await database.withConnection { try await AccountStore.identify(token, on: $0) }
        let actor = try Self.admit(use, method: method, tokenUses: tokenUses)
        context.actor = actor
        context.logger[metadataKey: "user.id"] = "\(actor.userID)"
        return try await next(request, context)
    }

    /// The actor of a token's lookup, its due stamp recorded; or the refusal: 401 when the lookup found nothing,
    /// 403 when an API token without the write scope asks for a method that writes.
    static func admit(_ use: TokenUse?, method: String, tokenUses: TokenUseRecorder) throws -> Actor {
        guard let use else { throw Self.refusal("The token is unknown, expired or revoked; sign in again.") }
        if TokenScope.needsWrite(method: method), !use.scopes.contains(.write) {
            throw Problem(
                status: .forbidden, title: "Forbidden",
                detail: "This API token may only read (scope read); \(method) needs a token with the write scope.",
                errors: [.init(field: "Authorization", message: "the token lacks the write scope")])
        }
        if use.stampDue { tokenUses.record(tokenID: use.tokenID) }
        return use.actor
    }

    static func refusal(_ detail: String) -> Problem {
        Problem(status: .unauthorized, detail: detail)
    }
}

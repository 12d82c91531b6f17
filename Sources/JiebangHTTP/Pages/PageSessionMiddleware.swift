import Hummingbird
import Jiebang
import Logging
import Postgres

/// Reads the session cookie of a page request and puts the actor it stands for into the context, as
/// `AuthenticationMiddleware` does for a bearer token. A cookie whose token is unknown, expired or revoked
/// leaves the request anonymous and is removed from the browser.
struct PageSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let database: PostgresClient
    let tokenUses: TokenUseRecorder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let value = request.cookies[PageSession.cookieName]?.value, !value.isEmpty else {
            return try await next(request, context)
        }
        let token = AccessToken(value: value)
        guard let use = try await database.withConnection({ try await AccountStore.identify(token, on: $0) }) else {
            var response = try await next(request, context)
            response.setCookie(PageSession.expired(PageSession.cookieName, request: request))
            return response
        }
        if use.stampDue { tokenUses.record(tokenID: use.tokenID) }
        var context = context
        context.actor = use.actor
        context.token = token
        context.logger[metadataKey: "user.id"] = "\(use.actor.userID)"
        do {
            return try await next(request, context)
        } catch let problem as Problem where problem.type != PageMiddleware.signInType {
            // The page's own refusal, shown with the header of the person signed in (who can sign out there).
            return PageMiddleware().errorPage(problem, session: PageSessionView(context))
        }
    }
}

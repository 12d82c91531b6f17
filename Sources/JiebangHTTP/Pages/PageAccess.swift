import Hummingbird
import Jiebang

/// Who may open a signed-in page.
enum PageAccess {
    /// The signed-in person, if their role is one of `roles`.
    /// - Throws: for the anonymous, the failure `PageMiddleware` answers with the sign-in page (coming back
    ///   here afterwards); for another role, a 403 problem with `refusal` (in Chinese).
    static func require(_ roles: Set<Role>, _ request: Request, _ context: AppRequestContext, refusal: String) throws -> Actor {
        guard let actor = context.actor else { throw PageMiddleware.signInRequired(returningTo: request.uri.path) }
        guard roles.contains(actor.role) else { throw Problem(status: .forbidden, detail: refusal) }
        return actor
    }
}

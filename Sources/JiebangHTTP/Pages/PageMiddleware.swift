import Foundation
import HTTPTypes
import Hummingbird

/// What every page answer carries, and what a page request gets when it fails.
///
/// It sits outside `ProblemMiddleware`, so every failure arrives here as a `Problem` (or a
/// `RetryLaterProblem`, or a `MethodNotAllowedProblem`). For a page (`isPage`), the failure becomes an error page in Chinese with the
/// same status (and `Retry-After`), never a stack trace; the API's answers pass through untouched.
/// Every page answer gets a Content-Security-Policy without inline script, `nosniff`, no framing and
/// no referrer beyond the origin.
struct PageMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let renderer: PageRenderer

    init(renderer: PageRenderer = .shared) {
        self.renderer = renderer
    }

    /// The headers of every page answer.
    static let securityHeaders: HTTPFields = {
        [
            HTTPField.Name("Content-Security-Policy")!:
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("X-Frame-Options")!: "DENY",
            HTTPField.Name("Referrer-Policy")!: "same-origin",
        ]
    }()

    /// Path prefixes the pages own.
    static let pagePrefixes = [
        "/challenges/", "/programmes", "/static/", "/sign-in", "/sign-out", "/expert", "/admin/", "/bureau", "/municipal",
        "/unit", "/inbox",
    ]

    /// The problem type of a page that needs a signed-in person; the page answers it with a redirect.
    static let signInType = "urn:jiebang:page:sign-in-required"

    /// The failure of a page that needs a signed-in person: this middleware answers it with a redirect to
    /// the sign-in page, which comes back to `path` afterwards.
    static func signInRequired(returningTo path: String) -> Problem {
        Problem(status: .unauthorized, detail: path, type: signInType)
    }

    /// Whether `request` asks for a page: a page's own path, or any path outside the API that a browser
    /// asks for (it accepts HTML), so a mistyped address gets a page too.
    static func isPage(_ request: Request) -> Bool {
        let path = request.uri.path
        if path.hasPrefix("/v1/") || path == "/v1" { return false }
        return isPagePath(path) || request.headers[.accept]?.contains("text/html") == true
    }

    /// Whether `path` is one of the pages' own (the board, challenges, programmes, the stylesheet).
    static func isPagePath(_ path: String) -> Bool {
        path == "/" || pagePrefixes.contains(where: { path.hasPrefix($0) })
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.isPage(request) else { return try await next(request, context) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let problem as RetryLaterProblem {
            response = errorPage(problem.problem)
            response.headers[.retryAfter] = "\(problem.retryAfterSeconds)"
        } catch let problem as MethodNotAllowedProblem {
            response = errorPage(problem.problem)
            response.headers[.allow] = problem.allowed.map(\.rawValue).joined(separator: ", ")
        } catch let problem as Problem where problem.type == Self.signInType {
            let next = (problem.detail ?? "/").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
            response = .redirect(to: "/sign-in?next=\(next)", type: .found)
        } catch let problem as Problem {
            response = errorPage(problem)
        }
        for field in Self.securityHeaders { response.headers[field.name] = field.value }
        return response
    }

    struct ErrorView: Sendable {
        let session: PageSessionView?
        var heading: String
        var message: String
        var retry: Bool
    }

    /// The page for `problem`: its status, a heading for it, and its detail when that is written in
    /// Chinese (page handlers write theirs so; the API's English details are replaced).
    func errorPage(_ problem: Problem, session: PageSessionView? = nil) -> Response {
        let status = problem.status
        let (heading, standard): (String, String) =
            switch status.code {
            case 400: ("请求有误", "请求中有无法处理的内容，请检查后重试。")
            case 401: ("需要登录", "请先登录后再访问本页。")
            case 403: ("无权访问", "您的账户无权查看本页。")
            case 404: ("页面不存在", "您要找的页面不存在，或已被移除。")
            case 405: ("请求有误", "本页不接受这种请求方式。")
            case 429: ("请求过于频繁", "请稍后再试。")
            case 503: ("服务暂不可用", "系统暂时无法处理请求。")
            case 500...: ("服务器出错", "服务器未能完成请求，我们已记录此问题。")
            default: ("请求未能完成", "请求未能完成。")
            }
        let detail = problem.detail.flatMap { text in
            text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } ? text : nil
        }
        return renderer.response(
            "error",
            ErrorView(session: session, heading: heading, message: detail ?? standard, retry: status.code == 503 || status.code == 429),
            status: status)
    }
}

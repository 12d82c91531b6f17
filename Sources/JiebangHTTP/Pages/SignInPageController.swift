import Foundation
import Hummingbird
import Jiebang
import Postgres

/// Signing in and out on the pages: `/sign-in` (a form with a double-submit CSRF token) and `/sign-out`.
/// The session is the access token `PasswordSignIn` issues, in an HttpOnly, SameSite=Lax cookie.
struct SignInPageController {
    let database: PostgresClient
    let signIn: PasswordSignIn
    let renderer: PageRenderer

    init(database: PostgresClient, signIn: PasswordSignIn, renderer: PageRenderer = .shared) {
        self.database = database
        self.signIn = signIn
        self.renderer = renderer
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("sign-in", use: form)
        router.post("sign-in", use: submit)
        router.post("sign-out", use: signOut)
    }

    struct SignInView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var login: String
        var next: String
        var csrf: String
        var error: String?
    }

    /// The characters a local address keeps as they are; anything else (Chinese, spaces) is percent-encoded.
    static let localPathCharacters: CharacterSet = {
        var set = CharacterSet.urlPathAllowed
        set.insert(charactersIn: "?&=")
        return set
    }()

    /// Where to go after signing in: a local path the form carried, else the person's workspace.
    static func destination(_ next: String?, role: Role) -> String {
        if let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
            !next.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
            let encoded = next.addingPercentEncoding(withAllowedCharacters: localPathCharacters)
        {
            return encoded
        }
        switch role {
        case .expert: return "/expert"
        case .systemAdmin: return "/admin/jobs"
        case .provincialPublisher: return "/bureau"
        case .municipalRecommender: return "/municipal"
        case .unitAdmin, .unitMember: return "/unit"
        }
    }

    @Sendable func form(_ request: Request, context: AppRequestContext) async throws -> Response {
        let next = request.uri.queryParameters["next"].map(String.init) ?? ""
        if let actor = context.actor {
            return .redirect(to: Self.destination(next, role: actor.role), type: .found)
        }
        return page(request, context: context, login: "", next: next, error: nil, status: .ok)
    }

    /// The form, with a fresh CSRF token in its cookie unless the browser already holds one.
    func page(
        _ request: Request, context: AppRequestContext, login: String, next: String, error: String?, status: HTTPResponse.Status
    ) -> Response {
        let existing = request.cookies[PageSession.formCookieName]?.value
        let token = existing.flatMap { $0.count == 43 ? $0 : nil } ?? PageSession.newFormToken()
        var response = renderer.response(
            "sign-in", SignInView(login: login, next: next, csrf: token, error: error), context: context, status: status)
        if token != existing { response.setCookie(PageSession.formCookie(token, request: request)) }
        return response
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await PageForm.read(request)
        try form.requireCSRF(request.cookies[PageSession.formCookieName]?.value)
        let login = (form["login"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = form["password"] ?? ""
        let next = form["next"] ?? ""
        guard !login.isEmpty, !password.isEmpty else {
            return page(request, context: context, login: login, next: next, error: "请填写账号和密码。", status: .unprocessableContent)
        }
        let session: PasswordSignIn.Session
        do {
            session = try await signIn.signIn(login: login, password: password, address: context.clientAddress)
        } catch AccountError.invalidCredentials {
            return page(request, context: context, login: login, next: next, error: "账号或密码不正确。", status: .unauthorized)
        } catch AccountError.throttled(let wait) {
            let seconds = AccountError.wholeSeconds(wait)
            var response = page(
                request, context: context, login: login, next: next, error: "尝试次数过多，请 \(seconds) 秒后再试。", status: .tooManyRequests)
            response.headers[.retryAfter] = "\(seconds)"
            return response
        }
        var response = Response.redirect(to: Self.destination(next, role: session.user.role), type: .normal)
        response.setCookie(PageSession.cookie(session.token, expiresAt: session.expiresAt, request: request))
        response.setCookie(PageSession.expired(PageSession.formCookieName, request: request))
        return response
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await PageForm.read(request)
        if let token = context.token {
            try form.requireCSRF(PageSession.csrf(for: token))
            try await database.withConnection { _ = try await AccountStore.revoke(token, on: $0) }
        }
        var response = Response.redirect(to: "/", type: .normal)
        response.setCookie(PageSession.expired(PageSession.cookieName, request: request))
        return response
    }
}

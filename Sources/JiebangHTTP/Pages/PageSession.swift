import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Jiebang

/// A person's session on the pages: the access token `PasswordSignIn` issues (stored hashed, expiring,
/// revocable by signing out), carried in an HttpOnly, SameSite=Lax cookie, and the CSRF tokens of the
/// forms.
///
/// A signed-in form carries `csrf`, an HMAC of the fixed text `csrf` keyed by the session's token: only
/// a page served to that session knows it (the cookie itself cannot be read by script). The sign-in form,
/// before any session, uses a double-submit token: a random value in the `jiebang_csrf` cookie that the
/// form must repeat.
enum PageSession {
    /// The cookie that holds the session's token.
    static let cookieName = "jiebang_session"
    /// The cookie of the sign-in form's CSRF token.
    static let formCookieName = "jiebang_csrf"
    /// The form field every POST form carries.
    static let csrfField = "csrf"

    /// The CSRF token of the forms served to the session of `token`.
    static func csrf(for token: AccessToken) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("csrf".utf8), using: SymmetricKey(data: Data(token.value.utf8)))
        return base64url(Data(code))
    }

    /// A new random token for the sign-in form's cookie.
    static func newFormToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64url(Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    /// Whether `given` equals `expected`, compared in time that does not depend on where they differ.
    static func matches(_ given: String?, _ expected: String) -> Bool {
        guard let given else { return false }
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count, !b.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Whether the request reached the server over TLS (directly or, as a proxy says, in front of it):
    /// the session's cookies are then marked Secure.
    static func isSecure(_ request: Request) -> Bool {
        request.uri.scheme == .https || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    /// The session cookie for `token`, expiring with it.
    static func cookie(_ token: AccessToken, expiresAt: Date, request: Request) -> Cookie {
        Cookie(
            name: cookieName, value: token.value, maxAge: max(0, Int(expiresAt.timeIntervalSinceNow)), path: "/",
            secure: isSecure(request), httpOnly: true, sameSite: .lax)
    }

    /// A cookie that removes `name` from the browser.
    static func expired(_ name: String, request: Request) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: isSecure(request), httpOnly: true, sameSite: .lax)
    }

    /// The sign-in form's CSRF cookie.
    static func formCookie(_ value: String, request: Request) -> Cookie {
        Cookie(name: formCookieName, value: value, maxAge: 3600, path: "/", secure: isSecure(request), httpOnly: true, sameSite: .lax)
    }

    static func base64url(_ data: Data) -> String {
        Base64URL.encode(data)
    }
}

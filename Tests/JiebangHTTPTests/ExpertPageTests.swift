import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Logging
import Postgres
import Testing

@testable import JiebangHTTP

@Suite("Signing in on the pages and the expert's workspace")
struct ExpertPageTests {
    /// A page request with a session cookie (and a form body when given).
    static func page(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String?, form: [(String, String)]? = nil,
        cookies: [String] = []
    ) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, html: String) {
        var headers: HTTPFields = [:]
        let jar = (token.map { ["\(PageSession.cookieName)=\($0)"] } ?? []) + cookies
        if !jar.isEmpty { headers[.cookie] = jar.joined(separator: "; ") }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            let characters = PublicPageController.queryValueCharacters
            body = ByteBuffer(
                string: form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: characters)!)" }.joined(separator: "&"))
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        return (response.status, response.headers, String(buffer: response.body))
    }

    static func csrf(_ token: String) -> String { PageSession.csrf(for: AccessToken(value: token)) }

    /// The value of `name=` in the response's Set-Cookie headers.
    static func cookie(_ name: String, in headers: HTTPFields) -> String? {
        for field in headers[values: .setCookie] where field.hasPrefix("\(name)=") {
            return String(field.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    @Test(
        "Signing in needs the form's CSRF token, says the same for an unknown login and a wrong password, and signing out revokes the session"
    )
    func signInAndOut() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let form = try await Self.page(client, .get, "/sign-in?next=/expert", token: nil)
                #expect(form.status == .ok)
                let formToken = try #require(Self.cookie(PageSession.formCookieName, in: form.headers))
                #expect(form.html.contains("name=\"csrf\" value=\"\(formToken)\""))
                #expect(form.headers[values: .setCookie].contains { $0.contains("HttpOnly") && $0.contains("SameSite=Lax") })
                let csrfCookie = "\(PageSession.formCookieName)=\(formToken)"

                let forged = try await Self.page(
                    client, .post, "/sign-in", token: nil, form: [("login", "expert"), ("password", "correct horse battery")],
                    cookies: [csrfCookie])
                #expect(forged.status == .forbidden)
                #expect(forged.html.contains("表单已失效"))
                #expect(Self.cookie(PageSession.cookieName, in: forged.headers) == nil)

                let wrong = try await Self.page(
                    client, .post, "/sign-in", token: nil,
                    form: [("csrf", formToken), ("login", "expert"), ("password", "wrong password here")], cookies: [csrfCookie])
                let unknown = try await Self.page(
                    client, .post, "/sign-in", token: nil,
                    form: [("csrf", formToken), ("login", "nobody"), ("password", "wrong password here")], cookies: [csrfCookie])
                #expect(wrong.status == .unauthorized)
                #expect(unknown.status == .unauthorized)
                #expect(wrong.html.contains("账号或密码不正确"))
                #expect(
                    wrong.html.replacingOccurrences(of: "value=\"expert\"", with: "")
                        == unknown.html.replacingOccurrences(of: "value=\"nobody\"", with: ""))

                let signedIn = try await Self.page(
                    client, .post, "/sign-in", token: nil,
                    form: [("csrf", formToken), ("login", "expert"), ("password", "correct horse battery"), ("next", "/expert")],
                    cookies: [csrfCookie])
                #expect(signedIn.status == .seeOther)
                #expect(signedIn.headers[.location] == "/expert")
                let session = try #require(Self.cookie(PageSession.cookieName, in: signedIn.headers))
                let setCookie = signedIn.headers[values: .setCookie].first { $0.hasPrefix(PageSession.cookieName) } ?? ""
                #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && setCookie.contains("Path=/"))
                #expect(!setCookie.contains("Secure"))

                let workspace = try await Self.page(client, .get, "/expert", token: session)
                #expect(workspace.status == .ok)
                #expect(workspace.html.contains("expert（评审专家）"))
                #expect(workspace.html.contains("目前没有分配给您的评审任务"))

                let elsewhere = try await Self.page(
                    client, .post, "/sign-in", token: nil,
                    form: [("csrf", formToken), ("login", "expert"), ("password", "correct horse battery"), ("next", "//evil.example")],
                    cookies: [csrfCookie])
                #expect(elsewhere.headers[.location] == "/expert")

                let noToken = try await Self.page(client, .post, "/sign-out", token: session, form: [])
                #expect(noToken.status == .forbidden)
                let out = try await Self.page(client, .post, "/sign-out", token: session, form: [("csrf", Self.csrf(session))])
                #expect(out.status == .seeOther)
                #expect(Self.cookie(PageSession.cookieName, in: out.headers) == "")
                let after = try await Self.page(client, .get, "/expert", token: session)
                #expect(after.status == .found)
                #expect(after.headers[.location] == "/sign-in?next=%2Fexpert")
                let bearer = try await client.call(.get, "/v1/me", headers: [.authorization: "Bearer \(session)"])
                #expect(bearer.status == .unauthorized)
            }
        }
    }

    @Test("Hostile forms and cookies get pages with 4xx, never a 5xx: bad encodings, NUL, huge bodies, odd next paths, forged cookies")
    func hostileForms() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let token = PageSession.newFormToken()
                let jar = "\(PageSession.formCookieName)=\(token)"
                func post(_ body: String, type: String = "application/x-www-form-urlencoded", cookie: String? = nil) async throws
                    -> HTTPResponse.Status
                {
                    var headers: HTTPFields = [.contentType: type]
                    headers[.cookie] = cookie ?? jar
                    return try await client.execute(uri: "/sign-in", method: .post, headers: headers, body: ByteBuffer(string: body)).status
                }
                #expect(try await post("csrf=\(token)&login=%zz&password=%") == .unprocessableContent)
                #expect(try await post("csrf=\(token)&login=a%00b&password=x") == .unprocessableContent)
                #expect(try await post("csrf=\(token)&login=" + String(repeating: "x", count: 300_000)) == .contentTooLarge)
                let tooLong = try await client.execute(
                    uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: jar],
                    body: ByteBuffer(string: "csrf=\(token)&login=" + String(repeating: "x", count: 300_000)))
                #expect(String(buffer: tooLong.body).contains("表单内容过长"))
                #expect(try await post("{\"login\":\"expert\"}", type: "application/json") == .unsupportedMediaType)
                #expect(
                    try await post("csrf=\(token)&login=expert&password=x", cookie: "\(PageSession.formCookieName)=other") == .forbidden)
                for next in ["/中文页面", "/a%0D%0ASet-Cookie:%20x=1", "https://evil.example/", "/\\evil", "%2F%2Fevil"] {
                    let body = "csrf=\(token)&login=expert&password=correct+horse+battery&next=\(next)"
                    var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                    headers[.cookie] = jar
                    let response = try await client.execute(
                        uri: "/sign-in", method: .post, headers: headers, body: ByteBuffer(string: body))
                    #expect(response.status == .seeOther, "\(next)")
                    let location = response.headers[.location] ?? ""
                    #expect(
                        location.hasPrefix("/") && !location.hasPrefix("//") && !location.contains("\r") && !location.contains("\n"),
                        "\(next)")
                }
                for cookie in [
                    "\(PageSession.cookieName)=", "\(PageSession.cookieName)=%%%",
                    "\(PageSession.cookieName)=jb_" + String(repeating: "A", count: 5000),
                ] {
                    let response = try await client.execute(uri: "/expert", method: .get, headers: [.cookie: cookie])
                    #expect(
                        response.status == .found || response.status.code == 431 || response.status == .badRequest, "\(cookie.prefix(40))")
                }
                for path in [
                    "/expert/assignments/abc", "/expert/assignments/99999999999999999999", "/admin/jobs/-1", "/bureau/programmes/0",
                ] {
                    let response = try await client.execute(
                        uri: path, method: .get, headers: [.cookie: "\(PageSession.cookieName)=\(fixture.tokens["admin"]!)"])
                    #expect(response.status.code < 500, "\(path)")
                }
            }
        }
    }

    @Test("An expert scores on the page: a draft is kept, a bad value is refused with the form kept, a submitted sheet is locked")
    func scoring() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 2)
            let seats = try await world.assignPanels(2)
            let seat = seats[0][0]
            let other = seats[0][1]
            let people = world.everyone
            let expert0 = try #require(people.tokens["expert0"])
            let expert1 = try #require(people.tokens["expert1"])
            try await people.application().test(.router) { client in
                let list = try await Self.page(client, .get, "/expert", token: expert0)
                #expect(list.status == .ok)
                #expect(list.html.contains("href=\"/expert/assignments/\(seat)\""))
                #expect(!list.html.contains("/expert/assignments/\(other)\""))

                let sheet = try await Self.page(client, .get, "/expert/assignments/\(seat)", token: expert0)
                #expect(sheet.status == .ok)
                #expect(sheet.html.contains("name=\"score.innovation\""))
                #expect(sheet.html.contains("技术路线"))
                #expect(sheet.html.contains(">保存草稿</button>"))

                let csrf = Self.csrf(expert0)
                let forged = try await Self.page(
                    client, .post, "/expert/assignments/\(seat)/score", token: expert0, form: [("score.innovation", "80")])
                #expect(forged.status == .forbidden)

                let draft = try await Self.page(
                    client, .post, "/expert/assignments/\(seat)/score", token: expert0,
                    form: [("csrf", csrf), ("action", "save"), ("score.innovation", "81"), ("comment.innovation", "创新性较强")])
                #expect(draft.status == .seeOther)
                #expect(draft.headers[.location] == "/expert/assignments/\(seat)?done=saved")
                let reloaded = try await Self.page(client, .get, "/expert/assignments/\(seat)?done=saved", token: expert0)
                #expect(
                    reloaded.html.contains(
                        "name=\"score.innovation\" type=\"number\" inputmode=\"numeric\" min=\"0\" max=\"100\" step=\"1\" value=\"81\""))
                #expect(reloaded.html.contains(">创新性较强</textarea>"))
                #expect(reloaded.html.contains("草稿已保存"))

                let bad = try await Self.page(
                    client, .post, "/expert/assignments/\(seat)/score", token: expert0,
                    form: [("csrf", csrf), ("action", "save"), ("score.innovation", "101"), ("comment.innovation", "超出范围")])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.html.contains("未能保存"))
                #expect(bad.html.contains("的分数：须在 0 至 100 之间，现为 101"), "the rule is said in Chinese, naming the criterion")
                #expect(bad.html.contains(">超出范围</textarea>"))
                let notNumber = try await Self.page(
                    client, .post, "/expert/assignments/\(seat)/score", token: expert0,
                    form: [("csrf", csrf), ("action", "save"), ("score.innovation", "八十")])
                #expect(notNumber.status == .unprocessableContent)
                #expect(notNumber.html.contains("分数应为整数"))

                let stillDraft = try await db.withConnection { conn in
                    try await conn.query(
                        "SELECT score FROM review_score_items WHERE assignment_id = \(seat) AND criterion_key = 'innovation'"
                    )
                    .first?.decode(Int.self)
                }
                #expect(stillDraft == 81)

                let full = ["rd_foundation", "innovation", "technical_plan", "funding"].flatMap { key in
                    [("score.\(key)", "75"), ("comment.\(key)", "意见：\(key)")]
                }
                let submitted = try await Self.page(
                    client, .post, "/expert/assignments/\(seat)/score", token: expert0, form: [("csrf", csrf), ("action", "submit")] + full)
                #expect(submitted.status == .seeOther)
                let locked = try await Self.page(client, .get, "/expert/assignments/\(seat)?done=submitted", token: expert0)
                #expect(locked.html.contains("<fieldset class=\"criterion\" disabled>"))
                #expect(!locked.html.contains(">提交评分</button>"))
                #expect(locked.html.contains("评分已提交并锁定"))
                let again = try await Self.page(
                    client, .post, "/expert/assignments/\(seat)/score", token: expert0, form: [("csrf", csrf), ("action", "save")] + full)
                #expect(again.status == .conflict)

                let peek = try await Self.page(client, .get, "/expert/assignments/\(seat)", token: expert1)
                #expect(peek.status == .notFound)
                #expect(peek.html.contains("<h1>页面不存在</h1>"))
                #expect(peek.html.contains("action=\"/sign-out\""))
                let own = try await Self.page(client, .get, "/expert/assignments/\(other)", token: expert1)
                #expect(own.status == .ok)
                #expect(!own.html.contains("意见：innovation"))
                #expect(!own.html.contains("value=\"75\""))
                let steal = try await Self.page(
                    client, .post, "/expert/assignments/\(seat)/score", token: expert1,
                    form: [("csrf", Self.csrf(expert1)), ("action", "save"), ("score.innovation", "1")])
                #expect(steal.status == .notFound)

                let anonymous = try await Self.page(client, .get, "/expert/assignments/\(seat)", token: nil)
                #expect(anonymous.status == .found)
                #expect(anonymous.headers[.location] == "/sign-in?next=%2Fexpert%2Fassignments%2F\(seat)")
                let publisher = try await Self.page(client, .get, "/expert", token: people.tokens["publisher"])
                #expect(publisher.status == .forbidden)
            }
        }
    }

    @Test("An expert recuses from a seat on the page with a reason; a reason too short is refused on the page")
    func recusal() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ScoringWorld.make(db, bids: 1, experts: 2)
            let seat = try await world.assignPanels(1)[0][0]
            let people = world.everyone
            let expert0 = try #require(people.tokens["expert0"])
            try await people.application().test(.router) { client in
                let csrf = Self.csrf(expert0)
                let short = try await Self.page(
                    client, .post, "/expert/assignments/\(seat)/recusal", token: expert0, form: [("csrf", csrf), ("reason", "x")])
                #expect(short.status == .unprocessableContent)
                #expect(short.html.contains("未能申请回避"))
                #expect(short.html.contains("理由：须为 2 至 1000 字，现有 1 字"))
                let done = try await Self.page(
                    client, .post, "/expert/assignments/\(seat)/recusal", token: expert0,
                    form: [("csrf", csrf), ("reason", "本人曾参与牵头单位的项目")])
                #expect(done.status == .seeOther)
                #expect(done.headers[.location] == "/expert?done=recused")
                let status = try await db.withConnection { conn in
                    try await conn.query("SELECT status::text FROM review_assignments WHERE id = \(seat)").first?.decode(String.self)
                }
                #expect(status != "active")
                let list = try await Self.page(client, .get, "/expert?done=recused", token: expert0)
                #expect(list.html.contains("已申请回避"))
                #expect(!list.html.contains("/expert/assignments/\(seat)\""))
            }
        }
    }
}

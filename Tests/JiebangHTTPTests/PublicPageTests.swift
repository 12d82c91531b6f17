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

@Suite("The public pages")
struct PublicPageTests {
    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: PublicPageController.queryValueCharacters)!
    }

    /// The page's text between `<ol class="results">` and `</ol>`: the listed challenges' links.
    static func listedIDs(_ html: String) -> [Int] {
        guard let start = html.range(of: "<ol class=\"results\">"),
            let end = html.range(of: "</ol>", range: start.upperBound..<html.endIndex)
        else { return [] }
        let list = html[start.upperBound..<end.lowerBound]
        return list.components(separatedBy: "href=\"/challenges/").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
    }

    /// The value of the link with `rel` in `html`, entities decoded.
    static func link(_ rel: String, in html: String) -> String? {
        guard let tag = html.range(of: "<a rel=\"\(rel)\" href=\"") else { return nil }
        let rest = html[tag.upperBound...]
        return rest.prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test("The board page searches in Chinese, marks the hits, counts the results and shows money in 万元 and Beijing time")
    func boardSearch() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await db.withTransaction { try await DemoData.load(on: $0) }
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                try await client.execute(uri: "/?q=\(Self.encoded("稀土"))", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    let html = String(buffer: response.body)
                    #expect(html.contains("<html lang=\"zh-CN\">"))
                    #expect(html.contains("共 <strong>1</strong> 项榜单"))
                    #expect(html.contains("高性能<mark>稀土</mark>永磁材料关键制备技术"))
                    #expect(html.contains("500.00 万元"))
                    #expect(html.contains("5,000,000.00 元"))
                    #expect(Self.listedIDs(html) == [1])
                    #expect(html.contains("value=\"稀土\""))
                }
                try await client.execute(uri: "/?domain=\(Self.encoded("新材料"))&q=", method: .get) { response in
                    let html = String(buffer: response.body)
                    let ids = Self.listedIDs(html)
                    #expect(!ids.isEmpty)
                    let expected = try await db.withConnection { conn in
                        try await conn.query(
                            "SELECT id FROM challenges WHERE domain = '新材料' AND status <> 'draft' ORDER BY application_deadline, id"
                        )
                        .map { try $0.decode(Int.self) }
                    }
                    #expect(ids == expected)
                    #expect(html.contains("<option value=\"新材料\" selected>新材料</option>"))
                }
            }
        }
    }

    @Test("A domain published a moment ago is a filter choice at once, and the choices are read once while nothing changes")
    func freshFacets() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await db.withTransaction { try await DemoData.load(on: $0) }
            let cache = BoardFacetCache(database: db)
            let before = try await cache.current()
            #expect(!before.domains.contains("新发布领域"))
            try await db.withConnection { conn in
                _ = try await BoardFixtures.challenge(conn, programme: 1, title: "新领域的榜单", content: "新领域的攻关内容", domain: "新发布领域")
            }
            #expect(try await cache.current().domains.contains("新发布领域"))
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                let first = try await client.execute(uri: "/", method: .get) { String(buffer: $0.body) }
                #expect(first.contains("<option value=\"新发布领域\">新发布领域</option>"))
                try await db.withConnection { conn in
                    _ = try await BoardFixtures.challenge(conn, programme: 1, title: "另一个榜单", content: "另一领域的攻关内容", domain: "又一领域")
                }
                let second = try await client.execute(uri: "/", method: .get) { String(buffer: $0.body) }
                #expect(second.contains("<option value=\"又一领域\">又一领域</option>"))
            }
        }
    }

    @Test("Paging forward and back keeps the filters and shows each challenge once")
    func paging() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let programme = try await BoardFixtures.programme(db)
            var created: [Int] = []
            try await db.withConnection { conn in
                for index in 0..<45 {
                    created.append(
                        try await BoardFixtures.challenge(
                            conn, programme: programme, title: "测试榜单\(index)", content: "用于分页测试的攻关内容说明",
                            domain: index.isMultiple(of: 9) ? "其他" : "测试领域",
                            deadlineDays: 10 + index % 7))
                }
            }
            let expected = try await db.withConnection { conn in
                try await conn.query("SELECT id FROM challenges WHERE domain = '测试领域' ORDER BY application_deadline, id").map {
                    try $0.decode(Int.self)
                }
            }
            #expect(expected.count == 40)
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                var uri = "/?domain=\(Self.encoded("测试领域"))"
                var pages: [[Int]] = []
                var uris: [String] = []
                while true {
                    let html = try await client.execute(uri: uri, method: .get) { String(buffer: $0.body) }
                    #expect(html.contains("共 <strong>40</strong> 项榜单"))
                    pages.append(Self.listedIDs(html))
                    uris.append(uri)
                    #expect((Self.link("prev", in: html) == nil) == (pages.count == 1))
                    guard let next = Self.link("next", in: html) else { break }
                    #expect(next.contains("domain=\(Self.encoded("测试领域"))"))
                    uri = next
                }
                #expect(pages.map(\.count) == [20, 20])
                #expect(pages.flatMap { $0 } == expected)
                let back = try await client.execute(uri: uris[1], method: .get) { String(buffer: $0.body) }
                let previous = try #require(Self.link("prev", in: back))
                #expect(previous.contains("before="))
                let first = try await client.execute(uri: previous, method: .get) { String(buffer: $0.body) }
                #expect(Self.listedIDs(first) == pages[0])
                #expect(Self.link("prev", in: first) == nil)
            }
        }
    }

    @Test("Text from the database is escaped: a title with a script tag shows as text")
    func escaping() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let programme = try await BoardFixtures.programme(db)
            let id = try await db.withConnection { conn in
                try await BoardFixtures.challenge(
                    conn, programme: programme, title: "<script>alert(1)</script>", content: "含有特殊字符的攻关内容：\"'&<b>")
            }
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                for uri in ["/", "/challenges/\(id)", "/?q=\(Self.encoded("<script>"))"] {
                    try await client.execute(uri: uri, method: .get) { response in
                        let html = String(buffer: response.body)
                        #expect(response.status == .ok)
                        #expect(!html.contains("<script>"))
                        #expect(
                            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                                || html.contains("<mark>&lt;script&gt;</mark>alert(1)&lt;/script&gt;"))
                    }
                }
                try await client.execute(uri: "/challenges/\(id)", method: .get) { response in
                    #expect(String(buffer: response.body).contains("&quot;&#39;&amp;&lt;b&gt;"))
                }
            }
        }
    }

    @Test("A challenge's page lists its amendments with what changed and why, in Beijing time and 万元")
    func amendments() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await db.withTransaction { try await DemoData.load(on: $0) }
            try await db.withTransaction { tx in
                try await tx.execute(
                    """
                    INSERT INTO challenge_amendments (challenge_id, version, reason, changes)
                    VALUES (1, 2, '延长申报截止时间', '{"applicationDeadline": "2027-03-01T09:30:00Z", "fundingCeilingFen": "600000000"}')
                    """)
                try await tx.execute(
                    "UPDATE challenges SET application_deadline = '2027-03-01T09:30:00Z', funding_ceiling_fen = 600000000, version = 2 WHERE id = 1"
                )
            }
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                try await client.execute(uri: "/challenges/1", method: .get) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .ok)
                    #expect(html.contains("第 2 版"))
                    #expect(html.contains("修订原因：延长申报截止时间"))
                    #expect(html.contains("<dt>申报截止时间</dt><dd>改为：2027-03-01 17:30</dd>"))
                    #expect(html.contains("<dt>支持资金上限</dt><dd>改为：600.00 万元</dd>"))
                    #expect(html.contains(DemoData.programmeName))
                }
            }
        }
    }

    @Test("Pages fail as pages in Chinese with the right status and security headers; the API keeps problem documents")
    func errorPages() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await db.withTransaction { try await DemoData.load(on: $0) }
            let draft = try await db.withConnection { conn in
                try await BoardFixtures.challenge(conn, programme: 1, title: "草稿榜单", content: "尚未发布的草稿攻关内容", status: "draft")
            }
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                for uri in ["/challenges/99999", "/challenges/\(draft)", "/challenges/abc", "/programmes/99999", "/programmes/0"] {
                    try await client.execute(uri: uri, method: .get) { response in
                        #expect(response.status == .notFound, "\(uri)")
                        #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                        #expect(String(buffer: response.body).contains("<h1>页面不存在</h1>"))
                    }
                }
                try await client.execute(uri: "/no/such/page", method: .get, headers: [.accept: "text/html,*/*"]) { response in
                    #expect(response.status == .notFound)
                    #expect(String(buffer: response.body).contains("页面不存在"))
                }
                try await client.execute(uri: "/v1/no/such/route", method: .get, headers: [.accept: "text/html"]) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                }
                try await client.execute(uri: "/?programme=abc&deadlineFrom=x&status=draft", method: .get) { response in
                    #expect(response.status == .badRequest)
                    let html = String(buffer: response.body)
                    #expect(html.contains("查询条件有误"))
                    #expect(html.contains("<li>专项："))
                    #expect(html.contains("<li>申报截止日期从："))
                    #expect(html.contains("<li>状态："))
                }
                try await client.execute(uri: "/?before=garbage", method: .get) { response in
                    #expect(response.status == .badRequest)
                }
                try await client.execute(uri: "/?q=%00", method: .get) { response in
                    #expect(response.status.code == 422)
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                }
                try await client.execute(uri: "/", method: .get) { response in
                    let policy = response.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
                    #expect(policy.contains("script-src 'self'"))
                    #expect(!policy.contains("unsafe-inline"))
                    #expect(policy.contains("frame-ancestors 'none'"))
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                }
                try await client.execute(uri: "/static/site.css", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/css; charset=utf-8")
                }
            }
        }
    }

    @Test("A programme's page lists its winners in 公示 with the objection deadline, and the lists of programmes link to it")
    func programmePage() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await db.withTransaction { try await DemoData.load(on: $0) }
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                try await client.execute(uri: "/programmes", method: .get) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<a href=\"/programmes/1\">\(DemoData.programmeName)</a>"))
                }
                try await client.execute(uri: "/programmes/1", method: .get) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .ok)
                    #expect(html.contains("<h1>\(DemoData.programmeName)</h1>"))
                    #expect(html.contains("尚未发布揭榜单位名单"))
                    #expect(html.contains("尚未发布攻关成功单位名单"))
                    #expect(html.contains("本专项目前没有处于公示期的结果"))
                }
            }
        }
    }

    @Test(
        "Beijing time computed from the seconds is the time zone database's, across leap years and centuries; older dates ask the database")
    func beijingTime() {
        var generator = SystemRandomNumberGenerator()
        // 1988 (daylight saving then), the first second of 1992, 2000-02-29, 2100, a leap day at midnight in Beijing.
        let edges: [Double] = [0, -1, 584_000_000, 694_195_199, 694_195_200, 951_782_400, 4_107_542_399, 1_709_164_800 - 8 * 3600]
        for seconds in edges + (0..<2_000).map({ _ in Double(Int64.random(in: 694_195_200...10_000_000_000, using: &generator)) }) {
            let date = Date(timeIntervalSince1970: seconds)
            let c = PageFormat.calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            let expected = String(
                format: "%04d-%02d-%02d %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
            #expect(PageFormat.dateTime(date) == expected, "\(seconds)")
        }
        #expect(PageHTML.escape(#"<a href="x">'&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(PageHTML.escape("稀土永磁") == "稀土永磁")
    }

    @Test(
        "Every answer, the API's and its errors included, carries nosniff, no referrer and a policy that loads and frames nothing; pages keep theirs; CORS is off: another origin is allowed nothing"
    )
    func securityHeaders() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                for uri in ["/healthz", "/v1/board/challenges", "/v1/no-such-thing", "/v1/me", "/openapi.yaml"] {
                    let response = try await client.execute(uri: uri, method: .get)
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(uri)")
                    #expect(
                        response.headers[HTTPField.Name("Content-Security-Policy")!] == "default-src 'none'; frame-ancestors 'none'",
                        "\(uri)")
                    #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(uri)")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(uri)")
                }
                let crossOrigin: HTTPFields = [
                    HTTPField.Name("Origin")!: "https://evil.example.cn", HTTPField.Name("Access-Control-Request-Method")!: "POST",
                    .authorization: "Bearer \(fixture.tokens["adminA"]!)",
                ]
                for (uri, method) in [("/v1/board/challenges", HTTPRequest.Method.get), ("/v1/me", .get), ("/v1/webhooks", .options)] {
                    let response = try await client.execute(uri: uri, method: method, headers: crossOrigin)
                    #expect(response.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil, "\(uri)")
                    #expect(response.headers[HTTPField.Name("Access-Control-Allow-Credentials")!] == nil, "\(uri)")
                    #expect(response.headers[HTTPField.Name("Access-Control-Allow-Methods")!] == nil, "\(uri)")
                }
                let page = try await client.execute(uri: "/", method: .get)
                #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
                #expect(page.headers[values: HTTPField.Name("Content-Security-Policy")!].count == 1, "one policy, the page's")
            }
        }
    }

    @Test("Money is shown in 万元 rounded to two places with the exact 元 beside it; times in Beijing")
    func formats() {
        #expect(PageFormat.money(fen: 500_000_000) == .init(wan: "500.00", yuan: "5,000,000.00"))
        #expect(PageFormat.money(fen: 123_456_789) == .init(wan: "123.46", yuan: "1,234,567.89"))
        #expect(PageFormat.money(fen: 4_999) == .init(wan: "0.00", yuan: "49.99"))
        #expect(PageFormat.money(fen: 5_000) == .init(wan: "0.01", yuan: "50.00"))
        #expect(PageFormat.money(fen: -1_000_000) == .init(wan: "-1.00", yuan: "-10,000.00"))
        #expect(PageFormat.dateTime(Date(timeIntervalSince1970: 1_799_999_400)) == "2027-01-15 15:50")
        #expect(PageFormat.day(Date(timeIntervalSince1970: 1_799_999_400 + 9 * 3600)) == "2027-01-16")
        #expect(
            PageFormat.highlight("稀土永磁与稀土抛光", "稀土") == [
                .init(text: "稀土", hit: true), .init(text: "永磁与", hit: false), .init(text: "稀土", hit: true),
                .init(text: "抛光", hit: false),
            ])
        #expect(PageFormat.highlight("Hydrogen 储运", "hydrogen").first == .init(text: "Hydrogen", hit: true))
        #expect(PageFormat.highlight("无关", "稀土") == [.init(text: "无关", hit: false)])
        #expect(PageFormat.highlight("", nil) == [.init(text: "", hit: false)])
    }
}

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

@Suite("Request text: NUL, UTF-8, dates and cursors")
struct RequestTextTests {
    /// Expects a problem document with `status` naming exactly `fields`.
    static func expect(
        _ response: TestResponse, _ status: Int, _ fields: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true, sourceLocation: sourceLocation)
        let body = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        let found = ((body?["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
        #expect(Int(response.status.code) == status, sourceLocation: sourceLocation)
        #expect(found == fields, "\(body ?? [:])", sourceLocation: sourceLocation)
    }

    @Test("If-Match names a revision, weak or strong, quoted or not; * and anything else are a 400 naming If-Match, * with its own reason")
    func ifMatchRevisions() throws {
        func request(_ value: String?) -> Request {
            var fields = HTTPFields()
            if let value { fields[.ifMatch] = value }
            return Request(
                head: HTTPRequest(method: .put, scheme: nil, authority: nil, path: "/v1/bids/1", headerFields: fields),
                body: .init(buffer: ByteBuffer()))
        }
        for (value, revision) in [("\"3\"", 3), ("W/\"12\"", 12), ("7", 7), (" \"4\" ", 4)] {
            #expect(try request(value).ifMatchRevision(required: true) == revision, "\(value)")
        }
        #expect(try request(nil).ifMatchRevision(required: false) == nil)
        #expect(throws: DomainError.self) { try request(nil).ifMatchRevision(required: true) }
        for value in ["*", "\"*\"", "abc", "\"0\"", "\"-1\"", "\"1\", \"2\""] {
            do {
                _ = try request(value).ifMatchRevision(required: true)
                Issue.record("If-Match \(value) was taken for a revision")
            } catch let problem as Problem {
                #expect(problem.statusCode == 400)
                #expect(problem.errors?.map(\.field) == ["If-Match"])
                let star = value == "*" || value == "\"*\""
                #expect(problem.errors?.first?.message.contains("not accepted") == star, "\(value): \(problem.errors ?? [])")
            }
        }
    }

    @Test("A body that is not JSON is a 400 naming the body, its detail one sentence with one full stop")
    func invalidJSONDetail() throws {
        struct Login: Decodable { var login: String }
        do {
            _ = try JSONDecoder().decode(Login.self, from: Data(#"{"login":"#.utf8))
            Issue.record("the truncated body decoded")
        } catch let error as DecodingError {
            let problem = Request.problem(for: error)
            #expect(problem.statusCode == 400)
            #expect(problem.errors?.first?.field == "body")
            #expect(problem.errors?.first?.message.hasPrefix("is not valid JSON") == true)
            #expect(problem.errors?.first?.message.hasSuffix(".") == false)
            #expect(problem.detail?.hasSuffix("..") == false)
            #expect(problem.detail?.hasSuffix(".") == true)
        }
    }

    @Test("A NUL anywhere in a JSON body is a 422 naming its path, keys included; escaped backslashes are not NUL")
    func nulPaths() {
        #expect(RequestText.pathOfNUL(inJSON: Array(#"{"login":"demo\u0000.publisher","password":"x"}"#.utf8)) == "login")
        #expect(RequestText.pathOfNUL(inJSON: Array(#"{"a":[1,{"b":"x"},{"part":{"tasks":"\u0000"}}]}"#.utf8)) == "a[2].part.tasks")
        #expect(RequestText.pathOfNUL(inJSON: Array(#"{"ok":"y","k\u0000":1}"#.utf8)) == "k\\u0000")
        #expect(RequestText.pathOfNUL(inJSON: Array(#"["a","\u0000"]"#.utf8)) == "[1]")
        #expect(RequestText.pathOfNUL(inJSON: Array(#""\u0000""#.utf8)) == "body")
        #expect(RequestText.pathOfNUL(inJSON: Array(#"{"a":"\\u0000","b":"\u00001"}"#.utf8)) == "b")
        #expect(RequestText.pathOfNUL(inJSON: Array(#"{"a":"\\u0000"}"#.utf8)) == nil)
        #expect(RequestText.pathOfNUL(inJSON: Array((String(repeating: "[", count: 100_000) + #""\u0000""#).utf8)) != nil)
    }

    @Test(
        "Sign-in, registration and the board refuse NUL with 422 naming the field, bad UTF-8 with 400, a compressed body with 415, and never reach the database"
    )
    func refusedOverHTTP() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            _ = try await db.withTransaction { try await DemoData.load(on: $0) }
            try await fixture.application().test(.router) { client in
                let signIn = #"{"login":"demo\u0000.publisher","password":"x"}"#
                try await client.execute(
                    uri: "/v1/sessions", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: signIn)
                ) { response in
                    try Self.expect(response, 422, ["login"])
                }
                let registration =
                    #"{"unit":{"kind":"enterprise","name":"兰州\u0000公司","creditCode":"x","regionCode":"620100","contactName":"张","contactPhone":"0931-8000000","contactEmail":"a@b.cn"}}"#
                try await client.execute(
                    uri: "/v1/units", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: registration)
                ) { response in
                    try Self.expect(response, 422, ["unit.name"])
                }
                try await client.execute(
                    uri: "/v1/sessions", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(bytes: Array(#"{"login":""#.utf8) + [0xFF, 0xFE] + Array(#"","password":"x"}"#.utf8))
                ) { response in
                    try Self.expect(response, 400, ["body"])
                }
                for (query, status, field) in [
                    ("q=%00", 422, "q"), ("domain=%E7%A8%80%00", 422, "domain"), ("industryChain=a%00", 422, "industryChain"),
                    ("q=%FF%FE", 400, "q"), ("after=-9223372036854775808.1", 400, "after"), ("after=-300000000000000000.1", 400, "after"),
                    ("after=djE6OTIyMzM3MjAzNjg1NDc3NTgwNzox", 400, "after"), ("deadlineFrom=999999-12-31T00:00:00Z", 400, "deadlineFrom"),
                    ("deadlineTo=-300000-01-01T00:00:00Z", 400, "deadlineTo"),
                ] {
                    try await client.execute(uri: "/v1/board/challenges?\(query)", method: .get) { response in
                        try Self.expect(response, status, [field])
                    }
                }
                // A compressed body is refused before it is read, naming the header; identity is no coding at all.
                let gzip: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]
                for coding in ["gzip", "br", "identity, gzip", "x-unknown"] {
                    try await client.execute(
                        uri: "/v1/sessions", method: .post, headers: [.contentType: "application/json", .contentEncoding: coding],
                        body: ByteBuffer(bytes: gzip)
                    ) { response in
                        try Self.expect(response, 415, ["Content-Encoding"])
                    }
                }
                try await client.execute(
                    uri: "/v1/sessions", method: .post, headers: [.contentType: "application/json", .contentEncoding: "Identity"],
                    body: ByteBuffer(string: #"{"login":"nobody","password":"not-the-password"}"#)
                ) { response in
                    // Read and judged: the credentials are wrong.
                    #expect(response.status == .unauthorized)
                }
                try await client.execute(
                    uri: "/v1/programmes/1/quotas/62%000100", method: .put,
                    headers: [.authorization: "Bearer \(fixture.tokens["publisher"]!)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"quota":1}"#)
                ) { response in
                    try Self.expect(response, 422, ["regionCode"])
                }
            }
        }
    }

    @Test("A JSON body nested deeper than 16 levels, or with an array of more than 1,000 items, is a 422 naming where")
    func shapeLimits() {
        func field(_ text: String) -> String? { RequestText.shapeProblem(inJSON: Array(text.utf8))?.errors?.first?.field }
        let deep = String(repeating: "[", count: 17) + String(repeating: "]", count: 17)
        #expect(field(deep) == String(repeating: "[0]", count: 16))
        #expect(field(String(repeating: "[", count: 16) + String(repeating: "]", count: 16)) == nil)
        #expect(
            field(#"{"challenge":{"indicators":"# + String(repeating: "{\"a\":", count: 15) + "1" + String(repeating: "}", count: 17))
                != nil)
        let items = (0..<1_001).map { "\"指标\($0)\"" }.joined(separator: ",")
        #expect(field(#"{"challenge":{"indicators":["# + items + "]}}") == "challenge.indicators")
        let enough = (0..<1_000).map { "\($0)" }.joined(separator: ",")
        #expect(field(#"{"ids":["# + enough + "]}") == nil)
        // Brackets and commas inside strings, escaped quotes included, are text.
        #expect(field(#"{"need":"[[[[[[[[[[[[[[[[[[[[,,,\"]]]]"}"#) == nil)
        #expect(field(#"{"a":"# + deep + "}") == "a" + String(repeating: "[0]", count: 15))
    }

    @Test("Names typed as a letter and a combining mark are stored in NFC, so a unit name or login written two ways is one")
    func normalisedToNFC() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                // "Café" with U+0065 U+0301, and 豈 as the compatibility ideograph U+F900.
                let decomposed = "Cafe\u{301}\u{F900}研究所"
                let code = try CreditCode.completing("12620100MB9876543").value
                let reply = try await client.call(
                    .post, "/v1/units",
                    json: [
                        "unit": [
                            "kind": "institute", "name": decomposed, "creditCode": code, "regionCode": "620100", "contactName": "赵敏",
                            "contactPhone": "0931-1234567", "contactEmail": "zhao@example.cn",
                        ]
                    ])
                #expect(reply.status == .created)
                let stored = try await db.query("SELECT name FROM units WHERE credit_code = \(code)").first!.decode(String.self)
                #expect(Array(stored.unicodeScalars.map(\.value)) == Array("Caf\u{E9}\u{8C48}研究所".unicodeScalars.map(\.value)))
            }
        }
    }

    @Test("The board's cursor is opaque: base64url of v1:<micros>:<id>, and only what the board wrote is read back")
    func cursor() throws {
        let cursor = BoardStore.Cursor(deadline: Date(timeIntervalSince1970: 1_751_277_600.123456), id: 42)
        let text = try #require(BoardQueryParser.encode(cursor))
        #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
        let back = try #require(BoardQueryParser.decode(text))
        #expect(back.id == 42)
        #expect(abs(back.deadline.timeIntervalSince1970 - 1_751_277_600.123456) < 0.000_001)
        for bad in [
            "", "1751277600123456.42", "djI6MTox", "djE6MTow", "djE6OjE", "djE6KzE6MQ", "djE6LTMwMDAwMDAwMDAwMDAwMDAwMDox",
            "djE6MToxCg", "djE6MDE6MQ", "djE6OTIyMzM3MjAzNjg1NDc3NTgwNzox", "!!", "djE6MTox===", "djE6MTox=",
        ] {
            #expect(BoardQueryParser.decode(bad) == nil, "\(bad)")
        }
        #expect(BoardQueryParser.decode("djE6MTox")?.id == 1)
        #expect(BoardQueryParser.encode(.init(deadline: Date(timeIntervalSince1970: 1e13), id: 1)) == nil)
    }

    @Test("A data exception that escapes a store is a 400 problem, not a 500")
    func dataExceptionIsBadRequest() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let router = Router(context: AppRequestContext.self)
            router.add(middleware: ProblemMiddleware())
            router.get("cast") { _, _ -> String in
                try await db.query("SELECT \("nine")::int").first?.decode(Int.self).description ?? ""
            }
            try await Application(router: router, services: [db]).test(.router) { client in
                try await client.execute(uri: "/cast", method: .get) { response in
                    #expect(response.status == .badRequest)
                    try Self.expect(response, 400, [])
                }
            }
        }
    }
}

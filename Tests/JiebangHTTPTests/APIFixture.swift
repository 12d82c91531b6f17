import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Logging
import Postgres
import Testing

/// People of every role and scope, with tokens, over a fresh database.
///
/// Gansu's bureau publishes; Lanzhou (620100) and Jinchang (620300) recommend; unit A is in Lanzhou,
/// unit B in Jinchang; each unit has an admin and a member.
struct APIFixture: Sendable {
    let db: PostgresClient
    var tokens: [String: String] = [:]
    var unitA = 0
    var unitB = 0
    var provinceBureau = 0
    var otherProvinceBureau = 0

    /// Every person, by name: the key of `tokens`.
    static let people = [
        "admin", "publisher", "otherPublisher", "lanzhou", "jinchang", "adminA", "memberA", "adminB", "memberB", "expert",
    ]

    /// People the access matrix adds (`addStrangers`): the admin and a member of unit C, which is in no bid, no
    /// project and no demand of the fixtures, and an expert of Qinghai's pool, seated nowhere.
    static let strangers = ["adminC", "memberC", "otherExpert"]

    /// Everyone the access matrix calls as.
    static let matrixPeople = people + strangers

    /// Each person's role.
    static let roles: [String: Role] = [
        "admin": .systemAdmin, "publisher": .provincialPublisher, "otherPublisher": .provincialPublisher,
        "lanzhou": .municipalRecommender, "jinchang": .municipalRecommender, "adminA": .unitAdmin, "memberA": .unitMember,
        "adminB": .unitAdmin, "memberB": .unitMember, "expert": .expert, "adminC": .unitAdmin, "memberC": .unitMember,
        "otherExpert": .expert,
    ]

    /// Adds the `strangers`, with tokens.
    mutating func addStrangers() async throws {
        let bureau = otherProvinceBureau
        tokens.merge(
            try await db.withTransaction { tx in
                let unitC = try await UnitStore.register(
                    Self.unit(name: "兰州陌生科技有限公司", code: "91620100MA7CDEFG1", region: "620100"), admin: nil, by: Self.system, on: tx
                ).id
                var tokens: [String: String] = [:]
                for (name, unit) in [("adminC", unitC), ("memberC", unitC), ("otherExpert", nil)] {
                    let id = try await AccountStore.createUser(
                        .init(login: name.lowercased(), displayName: name, role: Self.roles[name]!, unitID: unit, bureauID: nil),
                        passwordHash: try PasswordHasher.fastForTests.hash("correct horse battery"), by: "test", on: tx)
                    if unit == nil {
                        try await tx.execute(
                            """
                            INSERT INTO experts (user_id, bureau_id, organisation, region_code)
                            VALUES (\(id), \(bureau), '青海大学', '630100')
                            """)
                    }
                    tokens[name] = try await AccountStore.issueToken(
                        userID: id, kind: "api", label: nil, lifetime: .seconds(3600), on: tx
                    ).token.value
                }
                return tokens
            }
        ) { $1 }
    }

    /// A system admin acting in fixtures: units it registers are verified at once.
    static let system = Actor(userID: 0, displayName: "test", role: .systemAdmin, unitID: nil, bureauID: nil, regionCode: nil)

    static func make(_ db: PostgresClient) async throws -> APIFixture {
        var fixture = APIFixture(db: db)
        try await db.withTransaction { tx in
            fixture.provinceBureau = try await AccountStore.createBureau(
                name: "甘肃省工业和信息化厅", level: "province", regionCode: "620000", on: tx)
            fixture.otherProvinceBureau = try await AccountStore.createBureau(
                name: "青海省工业和信息化厅", level: "province", regionCode: "630000", on: tx)
            let lanzhou = try await AccountStore.createBureau(name: "兰州市工业和信息化局", level: "municipal", regionCode: "620100", on: tx)
            let jinchang = try await AccountStore.createBureau(name: "金昌市工业和信息化局", level: "municipal", regionCode: "620300", on: tx)
            let hasher = PasswordHasher.fastForTests
            let system = Self.system
            fixture.unitA = try await UnitStore.register(
                Self.unit(name: "兰州稀土新材料有限公司", code: "91620100MA7ABCDE1", region: "620100"), admin: nil, by: system,
                on: tx
            ).id
            fixture.unitB = try await UnitStore.register(
                Self.unit(name: "金川镍钴研究院", code: "12620300MB0123456", region: "620300", kind: "institute"), admin: nil,
                by: system, on: tx
            ).id
            let scopes: [String: (unit: Int?, bureau: Int?)] = [
                "publisher": (nil, fixture.provinceBureau), "otherPublisher": (nil, fixture.otherProvinceBureau),
                "lanzhou": (nil, lanzhou), "jinchang": (nil, jinchang), "adminA": (fixture.unitA, nil), "memberA": (fixture.unitA, nil),
                "adminB": (fixture.unitB, nil), "memberB": (fixture.unitB, nil),
            ]
            for name in Self.people {
                let role = Self.roles[name]!
                let (unit, bureau) = scopes[name] ?? (nil, nil)
                let id = try await AccountStore.createUser(
                    .init(login: name.lowercased(), displayName: name, role: role, unitID: unit, bureauID: bureau),
                    passwordHash: try hasher.hash("correct horse battery"), by: "test", on: tx)
                fixture.tokens[name] = try await AccountStore.issueToken(
                    userID: id, kind: "api", label: nil, lifetime: .seconds(3600), on: tx
                ).token.value
            }
        }
        return fixture
    }

    static func unit(name: String, code: String, region: String, kind: String = "enterprise") throws -> UnitStore.Input {
        UnitStore.Input(
            kind: kind, name: name, creditCode: try CreditCode.completing(code).value, regionCode: region,
            natures: kind == "enterprise" ? ["private", "srdi"] : [], contactName: "张伟", contactPhone: "0931-8000000",
            contactEmail: "zhang@example.cn")
    }

    /// The application under test; webhook secrets sealed under `secretsKeys` (nil: the database's own key).
    func application(secretsKeys: SecretsKeyring? = nil) -> some ApplicationProtocol {
        var configuration = HTTPConfiguration()
        configuration.secretsKeys = secretsKeys
        return buildApplication(configuration: configuration, database: db, passwordHasher: .fastForTests, logger: Logger(label: "test"))
    }
}

/// A response, its JSON decoded.
struct Reply: @unchecked Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var json: Any?

    var object: [String: Any] { json as? [String: Any] ?? [:] }
    /// The fields named in a problem's errors.
    var problemFields: Set<String> {
        Set(((object["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
    }
    var etag: String? { headers[.eTag] }
}

extension TestClientProtocol {
    /// Sends a request with an optional bearer token and JSON body.
    func call(
        _ method: HTTPRequest.Method, _ uri: String, as person: String? = nil, fixture: APIFixture? = nil,
        json: Any? = nil, raw: Data? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let person, let token = fixture?.tokens[person] { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            body = ByteBuffer(bytes: raw)
        }
        let response = try await execute(uri: uri, method: method, headers: headers, body: body)
        let data = Data(response.body.readableBytesView)
        return Reply(
            status: response.status, headers: response.headers,
            json: data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }
}

/// Request bodies the tests send.
enum Bodies {
    static func programme(name: String = "2026年甘肃省产业科技创新揭榜挂帅", closesInDays: Int = 120) -> [String: Any] {
        [
            "name": name, "year": 2026,
            "applicationOpensAt": iso(Date().addingTimeInterval(-86_400)),
            "applicationClosesAt": iso(Date().addingTimeInterval(Double(closesInDays) * 86_400)),
        ]
    }

    static func challenge(title: String = "高性能稀土永磁材料关键制备技术", deadlineDays: Int = 30) -> [String: Any] {
        [
            "title": title, "task": "突破高丰度稀土永磁材料制备工艺", "content": "开展稀土永磁材料晶界扩散技术研究，实现工程化应用",
            "indicators": ["最大磁能积不低于52 MGOe", "矫顽力不低于20 kOe"], "category": "core_basic", "domain": "新材料",
            "industryChain": "有色冶金", "applicationDeadline": iso(Date().addingTimeInterval(Double(deadlineDays) * 86_400)),
            "completionDeadline": "2029-12-31", "fundingCeilingFen": 500_000_000,
        ]
    }

    static func demand(unitID: Int) -> [String: Any] {
        [
            "unitID": unitID, "industryChain": "有色冶金", "need": "稀土永磁材料晶界扩散工艺的稳定量产技术",
            "contactName": "李娜", "contactPhone": "0931-8123456", "contactEmail": "li@example.cn",
        ]
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }
}

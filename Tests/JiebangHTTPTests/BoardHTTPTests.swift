import Foundation
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Logging
import Postgres
import Testing

@Suite("The board over HTTP")
struct BoardHTTPTests {
    @Test("Anyone can list and search the demo board; bad parameters are named in a 400 problem")
    func board() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let loaded = try await db.withTransaction { try await DemoData.load(on: $0) }
            #expect(loaded)
            let again = try await db.withTransaction { try await DemoData.load(on: $0) }
            #expect(!again)
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                try await client.execute(uri: "/v1/board/challenges?limit=4", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    #expect((page?["items"] as? [Any])?.count == 4)
                    #expect(page?["next"] is String)
                }
                let keyword = "稀土".addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!
                try await client.execute(uri: "/v1/board/challenges?q=\(keyword)", method: .get) { response in
                    let page = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    let items = page?["items"] as? [[String: Any]]
                    #expect(items?.count == 1)
                    #expect(items?.first?["title"] as? String == "高性能稀土永磁材料关键制备技术")
                    #expect((items?.first?["applicationDeadline"] as? String)?.hasSuffix("Z") == true)
                }
                try await client.execute(
                    uri: "/v1/board/challenges?limit=0&category=none&deadlineFrom=yesterday&after=xyz&status=draft", method: .get
                ) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                    let problem = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    let fields = Set(((problem?["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
                    #expect(fields == ["limit", "category", "deadlineFrom", "after", "status"])
                }
            }
        }
    }

    @Test("A challenge's page shows its amendments; drafts and unknown ids are 404, bad ids 400")
    func challengePage() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await db.withTransaction { try await DemoData.load(on: $0) }
            try await db.withTransaction { tx in
                try await tx.execute(
                    "INSERT INTO challenge_amendments (challenge_id, version, reason, changes) VALUES (1, 2, '延长申报截止时间', '{\"applicationDeadline\": \"later\"}')")
                try await tx.execute("UPDATE challenges SET application_deadline = application_deadline + interval '7 days', version = 2 WHERE id = 1")
            }
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                try await client.execute(uri: "/v1/board/challenges/1", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    #expect(page?["version"] as? Int == 2)
                    #expect(page?["programmeName"] as? String == DemoData.programmeName)
                    let amendments = page?["amendments"] as? [[String: Any]]
                    #expect(amendments?.first?["reason"] as? String == "延长申报截止时间")
                }
                try await client.execute(uri: "/v1/board/challenges/99999", method: .get) { response in
                    #expect(response.status == .notFound)
                }
                try await client.execute(uri: "/v1/board/challenges/abc", method: .get) { response in
                    #expect(response.status == .badRequest)
                }
            }
        }
    }

    @Test("Following next pages through the whole board visits every challenge once")
    func pagesThrough() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await db.withTransaction { try await DemoData.load(on: $0) }
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                var seen: [Int] = []
                var uri = "/v1/board/challenges?limit=3"
                while true {
                    let next: String? = try await client.execute(uri: uri, method: .get) { response in
                        let page = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                        seen += ((page?["items"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int }
                        return page?["next"] as? String
                    }
                    guard let next else { break }
                    uri = "/v1/board/challenges?limit=3&after=\(next)"
                }
                #expect(seen.count == 10)
                #expect(Set(seen).count == seen.count)
            }
        }
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import JiebangHTTP
import JiebangTesting
import Logging
import Postgres
import Testing

@Suite("The board's date filters")
struct BoardDateFilterTests {
    /// Deadlines around the end of 2025-05-31 in Asia/Shanghai, by title.
    static let deadlines = [
        "五月三十日深夜": "2025-05-30T23:59:59+08:00",
        "五月三十一日零点": "2025-05-31T00:00:00+08:00",
        "五月三十一日深夜": "2025-05-31T23:30:00+08:00",
        "六月一日零点": "2025-06-01T00:00:00+08:00",
    ]

    @Test(
        "A date without a time is the whole day in Asia/Shanghai: deadlineTo up to its end, deadlineFrom from its start",
        arguments: [
            ("deadlineTo=2025-05-31", ["五月三十日深夜", "五月三十一日零点", "五月三十一日深夜"]),
            ("deadlineTo=2025-05-30", ["五月三十日深夜"]),
            ("deadlineFrom=2025-05-31", ["五月三十一日零点", "五月三十一日深夜", "六月一日零点"]),
            ("deadlineFrom=2025-05-31&deadlineTo=2025-05-31", ["五月三十一日零点", "五月三十一日深夜"]),
            ("deadlineTo=2025-05-31T23:00:00%2B08:00", ["五月三十日深夜", "五月三十一日零点"]),
            ("deadlineTo=2025-05-31T23:30:00%2B08:00", ["五月三十日深夜", "五月三十一日零点", "五月三十一日深夜"]),
            ("deadlineFrom=2025-05-31T15:30:00Z", ["五月三十一日深夜", "六月一日零点"]),
        ])
    func wholeDays(filter: String, expected: [String]) async throws {
        try await TestDatabase.withFreshDatabase { db in
            let programme = try await BoardFixtures.programme(db)
            for (title, deadline) in Self.deadlines {
                // A challenge is published before its deadline, and then changes only by amendment.
                let id = try await db.withConnection { conn in
                    try await BoardFixtures.challenge(conn, programme: programme, title: title, content: "截止时间测试")
                }
                try await db.withTransaction { tx in
                    try await tx.execute(
                        "INSERT INTO challenge_amendments (challenge_id, version, reason, changes) VALUES (\(id), 2, '调整申报截止时间', '{}')")
                    try await tx.execute(
                        "UPDATE challenges SET application_deadline = \(deadline)::timestamptz, version = 2 WHERE id = \(id)")
                }
            }
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                try await client.execute(uri: "/v1/board/challenges?status=published&\(filter)", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    let titles = ((page?["items"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }
                    #expect(titles == expected)
                }
            }
        }
    }

    @Test(
        "A date that does not exist or is not written YYYY-MM-DD is a 400 problem naming the parameter",
        arguments: [
            "deadlineTo=2025-02-30", "deadlineTo=2025-13-01", "deadlineFrom=2025-02-29", "deadlineFrom=2025-04-31",
            "deadlineTo=2025-00-10", "deadlineFrom=0000-01-01", "deadlineTo=2025-5-31", "deadlineFrom=２０２５-05-31",
        ])
    func badDates(filter: String) async throws {
        try await TestDatabase.withFreshDatabase { db in
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                let query = filter.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!
                try await client.execute(uri: "/v1/board/challenges?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                    let problem = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    let fields = ((problem?["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
                    #expect(fields == [String(filter.prefix { $0 != "=" })])
                }
            }
        }
    }

    @Test("2024-02-29 is a day, and the first and last days of the range are accepted")
    func edgeDays() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                for filter in ["deadlineTo=2024-02-29", "deadlineFrom=2000-02-29", "deadlineFrom=0001-01-01", "deadlineTo=9999-12-31"] {
                    try await client.execute(uri: "/v1/board/challenges?\(filter)", method: .get) { response in
                        #expect(response.status == .ok, "\(filter)")
                    }
                }
            }
        }
    }
}

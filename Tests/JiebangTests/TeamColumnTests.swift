import Foundation
import JiebangTesting
import Postgres
import Testing

@testable import Jiebang

@Suite("A bid's team read from jsonb")
struct TeamColumnTests {
    typealias Member = BidContent.TeamMember

    /// What each decoder makes of `json` as the server stores it: the team, or nil when it throws.
    static func both(_ json: String, on db: PostgresClient) async throws -> (fast: [Member]?, foundation: [Member]?, read: Bool) {
        let row = try await db.query("SELECT \(json)::jsonb, \(json)::jsonb::text").first!
        let fast = try? row.decode(TeamColumn.self, at: 0).members
        let foundation = try? row.decode(PostgresJSON<[Member]>.self, at: 0).value
        // jsonb's binary form is a version byte and this text, so the reader sees what it sees in a row.
        let printed = Array(try row.decode(String.self, at: 1).utf8)
        let read = printed.withUnsafeBytes { bytes in
            var reader = TeamColumn.Reader(bytes: bytes)
            return reader.team() != nil
        }
        return (fast, foundation, read)
    }

    @Test("Teams as PostgreSQL prints them are read without Foundation, and every team decodes as with Foundation's JSONDecoder")
    func sameAsFoundation() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let cases: [(json: String, fast: Bool)] = [
                ("[]", true),
                (#"[{"name": "张三", "title": "教授", "unit": "兰州大学", "role": "负责人"}]"#, true),
                (#"[{"role":"","unit":"","title":"","name":"A"},{"name":"😀 e\u0301","title":"t","unit":"u","role":"r"}]"#, false),
                (#"[{"name": "a\"b", "title": "", "unit": "", "role": ""}]"#, false),
                (#"[{"name": "a\\b", "title": "", "unit": "", "role": ""}]"#, false),
                (#"[{"name": "line\nbreak", "title": "", "unit": "", "role": ""}]"#, false),
                (#"[{"name": "\u0001", "title": "", "unit": "", "role": ""}]"#, false),
                (#"[{"name": "a", "title": "", "unit": "", "role": "", "extra": "x"}]"#, false),
                (#"[{"name": "a", "title": "", "unit": ""}]"#, false),
                (#"[{"name": "a", "title": "", "unit": "", "role": 1}]"#, false),
                (#"[{"name": "a", "title": "", "unit": "", "role": null}]"#, false),
                (#"[{"name": "a", "title": "", "unit": "", "role": ["x"]}]"#, false),
                (#"{"name": "a"}"#, false),
                (#""text""#, false),
                ("[[]]", false),
                ("[1]", false),
                ("null", false),
            ]
            for (json, fast) in cases {
                let (fastTeam, foundationTeam, read) = try await Self.both(json, on: db)
                #expect(fastTeam == foundationTeam, "\(json)")
                // Cases PostgreSQL prints with an escape may still be read fast when the escape goes (é, emoji).
                if fast { #expect(read, "PostgreSQL's print of \(json) was not read without Foundation") }
            }
            let plain = try await Self.both(#"[{"name": "😀", "title": "é", "unit": "u", "role": "r"}]"#, on: db)
            #expect(plain.read && plain.fast == [Member(name: "😀", title: "é", unit: "u", role: "r")])
            let escaped = try await Self.both(#"[{"name": "a\"b", "title": "", "unit": "", "role": ""}]"#, on: db)
            #expect(!escaped.read && escaped.fast?.first?.name == "a\"b")
        }
    }

    @Test("Random teams, written with JSONEncoder and stored as jsonb, decode alike both ways")
    func randomTeams() async throws {
        let alphabet = Array("aZ 张三教授\"\\/\n\t\u{1}\u{7F}é😀{}[],:") + ["e\u{301}"]
        var generator = SystemRandomNumberGenerator()
        func text() -> String {
            String((0..<Int.random(in: 0...6, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        try await TestDatabase.withEmptyDatabase { db in
            var readFast = 0
            for _ in 0..<300 {
                let team = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                    Member(name: text(), title: text(), unit: text(), role: text())
                }
                let json = String(decoding: try JSONEncoder().encode(team), as: UTF8.self)
                let (fast, foundation, read) = try await Self.both(json, on: db)
                #expect(fast == team && foundation == team, "\(json)")
                if read { readFast += 1 }
            }
            #expect(readFast > 0, "no random team was read without Foundation")
        }
    }
}

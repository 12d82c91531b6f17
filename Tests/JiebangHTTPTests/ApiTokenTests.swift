import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Postgres
import Testing

@testable import JiebangHTTP

@Suite("API tokens: scoped, listed without secrets, revocable, at most twenty")
struct ApiTokenTests {
    static func create(
        _ client: some TestClientProtocol, as person: String, _ fixture: APIFixture, scopes: [String], label: String = "导出脚本"
    ) async throws -> Reply {
        try await client.call(.post, "/v1/me/tokens", as: person, fixture: fixture, json: ["label": label, "scopes": scopes])
    }

    @Test("A read token reads and is refused 403 on every other method; a write token changes; neither secret is listed or stored")
    func scopes() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let read = try await Self.create(client, as: "adminA", fixture, scopes: ["read"])
                #expect(read.status == .created)
                let readSecret = try #require(read.object["token"] as? String)
                let details = try #require(read.object["details"] as? [String: Any])
                #expect(details["scopes"] as? [String] == ["read"] && details["label"] as? String == "导出脚本")
                let readToken: HTTPFields = [.authorization: "Bearer \(readSecret)"]
                #expect(try await client.call(.get, "/v1/me", headers: readToken).status == .ok)
                #expect(try await client.call(.get, "/v1/bids", headers: readToken).status == .ok)
                for (method, uri, body) in [
                    (HTTPRequest.Method.put, "/v1/me/email", ["email": "a@example.cn"] as [String: Any]),
                    (.post, "/v1/me/tokens", ["label": "升级", "scopes": ["read", "write"]]),
                    (.post, "/v1/demands", Bodies.demand(unitID: fixture.unitA)),
                ] {
                    let refused = try await client.call(method, uri, json: body, headers: readToken)
                    #expect(refused.status == .forbidden, "\(uri)")
                    #expect(refused.problemFields == ["Authorization"], "\(uri)")
                }
                #expect(try await client.call(.delete, "/v1/sessions/current", headers: readToken).status == .forbidden)

                let write = try await Self.create(client, as: "adminA", fixture, scopes: ["write", "read"])
                let writeSecret = try #require(write.object["token"] as? String)
                #expect((write.object["details"] as? [String: Any])?["scopes"] as? [String] == ["read", "write"])
                let changed = try await client.call(
                    .put, "/v1/me/email", json: ["email": "a@example.cn"], headers: [.authorization: "Bearer \(writeSecret)"])
                #expect(changed.status == .ok)
                // Write alone implies read.
                let implied = try await Self.create(client, as: "adminA", fixture, scopes: ["write"])
                #expect((implied.object["details"] as? [String: Any])?["scopes"] as? [String] == ["read", "write"])

                let list = try await client.call(.get, "/v1/me/tokens", as: "adminA", fixture: fixture)
                // The fixture's own token (unlabelled) is one of adminA's API tokens too.
                let items = try #require(list.object["items"] as? [[String: Any]]).filter { $0["label"] as? String != "" }
                #expect(items.count == 3)
                #expect(items.allSatisfy { $0["token"] == nil })
                let text = String(data: try JSONSerialization.data(withJSONObject: list.object), encoding: .utf8)!
                #expect(!text.contains(readSecret) && !text.contains(writeSecret))
                // Only the SHA-256 is kept, in the token table and nowhere else.
                let stored = try await db.query(
                    "SELECT count(*) FROM idempotency_keys WHERE convert_from(response_body, 'UTF8') LIKE \("%" + readSecret + "%")"
                ).first!.decode(Int.self)
                #expect(stored == 0)
                // Another person sees none of them.
                let other = try await client.call(.get, "/v1/me/tokens", as: "adminB", fixture: fixture)
                #expect((other.object["items"] as? [[String: Any]])?.contains { $0["label"] as? String == "导出脚本" } == false)
            }
        }
    }

    @Test("A revoked token is refused at once; revoking again changes nothing; another person's token is not found")
    func revoke() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let created = try await Self.create(client, as: "memberA", fixture, scopes: ["read"])
                let secret = try #require(created.object["token"] as? String)
                let id = try #require((created.object["details"] as? [String: Any])?["id"] as? Int)
                #expect(try await client.call(.delete, "/v1/me/tokens/\(id)", as: "adminA", fixture: fixture).status == .notFound)
                #expect(try await client.call(.get, "/v1/me", headers: [.authorization: "Bearer \(secret)"]).status == .ok)
                #expect(try await client.call(.delete, "/v1/me/tokens/\(id)", as: "memberA", fixture: fixture).status == .noContent)
                #expect(try await client.call(.get, "/v1/me", headers: [.authorization: "Bearer \(secret)"]).status == .unauthorized)
                #expect(try await client.call(.delete, "/v1/me/tokens/\(id)", as: "memberA", fixture: fixture).status == .noContent)
                let listed = try await client.call(.get, "/v1/me/tokens", as: "memberA", fixture: fixture)
                #expect(((listed.object["items"] as? [[String: Any]])?.first?["revokedAt"] as? String) != nil)
                let audit = try await db.query("SELECT count(*) FROM audit_log WHERE action = 'token.revoke'").first!.decode(Int.self)
                #expect(audit == 1)
            }
        }
    }

    @Test("Bad labels, scopes and lifetimes are 400 or 422 naming the field")
    func validation() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                for (body, status, fields) in [
                    (["label": "", "scopes": ["read"]] as [String: Any], HTTPResponse.Status.unprocessableContent, Set(["label"])),
                    (["label": String(repeating: "长", count: 101), "scopes": ["read"]], .unprocessableContent, ["label"]),
                    (["label": "a\u{7}b", "scopes": ["read"]], .unprocessableContent, ["label"]),
                    (["label": "x", "scopes": [String]()], .unprocessableContent, ["scopes"]),
                    (["label": "x", "scopes": ["read", "read"]], .unprocessableContent, ["scopes"]),
                    (["label": "x", "scopes": ["admin"]], .badRequest, ["scopes[0]"]),
                    (["label": "x", "scopes": ["read"], "expiresInDays": 0], .unprocessableContent, ["expiresInDays"]),
                    (["label": "x", "scopes": ["read"], "expiresInDays": 366], .unprocessableContent, ["expiresInDays"]),
                ] {
                    let reply = try await client.call(.post, "/v1/me/tokens", as: "adminA", fixture: fixture, json: body)
                    #expect(reply.status == status, "\(body)")
                    #expect(reply.problemFields == fields, "\(body)")
                }
                #expect(
                    try await db.query("SELECT count(*) FROM access_tokens WHERE kind = 'api' AND label IS NOT NULL").first!.decode(
                        Int.self) == 0)
            }
        }
    }

    @Test("Twenty-five tokens created at once for one person: exactly twenty, in Swift and in the database")
    func cap() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let user = try await db.query("SELECT id FROM users WHERE login = 'lanzhou'").first!.decode(Int.self)
                // The fixture's token is one of lanzhou's live API tokens already.
                let held = try await db.query("SELECT count(*) FROM access_tokens WHERE user_id = \(user) AND kind = 'api'").first!.decode(
                    Int.self)
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for index in 0..<25 {
                        group.addTask {
                            try await Self.create(client, as: "lanzhou", fixture, scopes: ["read"], label: "令牌\(index)").status
                        }
                    }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .created }.count == 20 - held, "\(statuses)")
                #expect(statuses.filter { $0 == .conflict }.count == 5 + held, "\(statuses)")
                // Past Swift, the database refuses the twenty-first, and (for someone under the cap) tokens that break the rules.
                let other = try await db.query("SELECT id FROM users WHERE login = 'jinchang'").first!.decode(Int.self)
                for (sql, constraint) in [
                    (
                        "INSERT INTO access_tokens (user_id, token_hash, kind, label, scopes, expires_at) VALUES (\(user), sha256('x'), 'api', 'y', ARRAY['read'], now() + interval '1 day')",
                        "access_tokens_api_cap"
                    ),
                    (
                        "INSERT INTO access_tokens (user_id, token_hash, kind, scopes, expires_at) VALUES (\(other), sha256('w'), 'api', ARRAY['write'], now() + interval '1 day')",
                        "access_tokens_scopes"
                    ),
                    (
                        "INSERT INTO access_tokens (user_id, token_hash, kind, scopes, expires_at) VALUES (\(other), sha256('s'), 'session', ARRAY['read'], now() + interval '1 day')",
                        "access_tokens_session_scopes"
                    ),
                    (
                        "INSERT INTO access_tokens (user_id, token_hash, kind, expires_at) VALUES (\(other), sha256('l'), 'api', now() + interval '400 days')",
                        "access_tokens_api_lifetime"
                    ),
                ] as [(PostgresQuery, String)] {
                    let refused = await ScoringHTTPTests.refusal(db, sql)
                    #expect(refused == constraint, "\(constraint): \(refused ?? "accepted")")
                }
            }
        }
    }
}

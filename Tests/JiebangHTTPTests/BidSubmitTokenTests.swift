import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Postgres
import Testing

/// The submit route looks its token up in the statement that locks and reads the bid (one round trip fewer in
/// the deadline rush), and refuses in the same words as every other route.
@Suite("Submitting with a token looked up beside the bid")
struct BidSubmitTokenTests {
    struct Refused: Error {}

    /// Whether `bid`'s row can be locked at once from another connection.
    static func lockable(_ bid: Int, _ db: PostgresClient) async throws -> Bool {
        try await db.withTransaction { tx in
            try await tx.query("SELECT count(*) FROM (SELECT 1 FROM bids WHERE id = \(bid) FOR UPDATE SKIP LOCKED) AS free")
                .first!.decode(Int.self) == 1
        }
    }

    /// A token of `person`'s user, its scopes set by hand, and its value.
    static func token(_ person: BidWorld.Person, scopes: [String], revoked: Bool = false, _ db: PostgresClient) async throws -> String {
        try await db.withTransaction { tx in
            let (token, _) = try await AccountStore.issueToken(
                userID: person.userID, kind: "api", label: nil, lifetime: .seconds(3600), on: tx)
            try await tx.execute(
                """
                UPDATE access_tokens SET scopes = \(scopes),
                       revoked_at = CASE WHEN \(revoked) THEN now() END
                WHERE token_hash = \(token.digest)
                """)
            return token.value
        }
    }

    @Test(
        "Without a token, with an unknown, malformed, revoked or read-only one, the submit is refused as on every route (401, 401, 401, 401, 403) and the bid stays a draft; a partner is refused, an unknown bid is 404, and the lead's token submits and is stamped"
    )
    func refusalsAndSuccess() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1, challenges: 1)
            let lead = world.leads[0]
            let bid = try await world.consortium(lead: lead, partner: world.partners[0], challenge: world.challenges[0])
            let readOnly = try await Self.token(lead, scopes: ["read"], db)
            let revoked = try await Self.token(lead, scopes: ["read", "write"], revoked: true, db)
            try await world.fixture.application().test(.router) { client in
                let path = "/v1/bids/\(bid)/submit"
                let refusals: [(HTTPFields, HTTPResponse.Status, String)] = [
                    ([:], .unauthorized, "Sign in"),
                    ([.authorization: "Bearer 0123456789abcdef"], .unauthorized, "unknown, expired or revoked"),
                    ([.authorization: "Basic \(lead.token)"], .unauthorized, "must be Bearer"),
                    ([.authorization: "Bearer \(revoked)"], .unauthorized, "unknown, expired or revoked"),
                    ([.authorization: "Bearer \(readOnly)"], .forbidden, "may only read"),
                ]
                for (headers, status, words) in refusals {
                    let reply = try await client.call(.post, path, headers: headers)
                    #expect(reply.status == status, "\(headers)")
                    #expect((reply.object["detail"] as? String)?.contains(words) == true, "\(reply.object)")
                }
                // A bad id or If-Match is answered after the token, as on every route: a stranger learns nothing from it.
                let badRequests: [(String, HTTPFields)] = [("/v1/bids/abc/submit", [:]), (path, [.ifMatch: "abc"])]
                for (bad, headers) in badRequests {
                    var unknownToken: HTTPFields = [.authorization: "Bearer 0123456789abcdef"]
                    unknownToken.append(contentsOf: headers)
                    #expect(try await client.call(.post, bad, headers: unknownToken).status == .unauthorized, "\(bad)")
                    var leadToken: HTTPFields = [.authorization: "Bearer \(lead.token)"]
                    leadToken.append(contentsOf: headers)
                    #expect(try await client.call(.post, bad, headers: leadToken).status == .badRequest, "\(bad)")
                }
                let scope = try await client.call(.post, path, headers: [.authorization: "Bearer \(readOnly)"])
                #expect((scope.object["errors"] as? [[String: Any]])?.first?["field"] as? String == "Authorization")
                let partner = try await client.call(.post, path, headers: [.authorization: "Bearer \(world.partners[0].token)"])
                #expect(partner.status == .forbidden)
                let unknown = try await client.call(
                    .post, "/v1/bids/\(bid + 1000)/submit", headers: [.authorization: "Bearer \(lead.token)"])
                #expect(unknown.status == .notFound)
                let still = try await db.query(
                    "SELECT status::text, version, (SELECT count(*) FROM bid_submissions WHERE bid_id = \(bid)) FROM bids WHERE id = \(bid)"
                ).first!.decode((String, Int, Int).self)
                #expect(still == ("draft", 0, 0))

                let submitted = try await client.call(.post, path, headers: [.authorization: "Bearer \(lead.token)"])
                #expect(submitted.status == .ok)
                #expect(submitted.object["bidID"] as? Int == bid && submitted.object["version"] as? Int == 1)
                let audit = try await db.query(
                    "SELECT actor_id FROM audit_log WHERE action = 'bid.submit' AND entity_id = \(String(bid))"
                ).decode(Int?.self)
                #expect(audit == [lead.userID])
                let digest = AccessToken(value: lead.token).digest
                var stamped = false
                for _ in 0..<100 where !stamped {
                    stamped = try await db.query("SELECT last_used_at IS NOT NULL FROM access_tokens WHERE token_hash = \(digest)")
                        .first!.decode(Bool.self)
                    if !stamped { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(stamped)
            }
        }
    }

    @Test(
        "A token's lookup rides in the statement that locks the bid: an unknown or read-only token locks nothing, and the lead's token locks the bid until its transaction ends"
    )
    func lockOnlyForAWriter() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1, challenges: 1)
            let lead = world.leads[0]
            let bid = try await world.consortium(lead: lead, partner: world.partners[0], challenge: world.challenges[0])
            let readOnly = try await Self.token(lead, scopes: ["read"], db)
            for (value, expected) in [("no-such-token", nil), (readOnly, Set([TokenScope.read]))] as [(String, Set<TokenScope>?)] {
                try await db.withTransaction { tx in
                    await #expect(throws: Refused.self) {
                        _ = try await BidStore.submit(
                            id: bid, ifRevision: nil,
                            as: .token(AccessToken(value: value)) { use in
                                #expect(use?.scopes == expected)
                                #expect(use.map(\.actor.userID) == (expected == nil ? nil : lead.userID))
                                throw Refused()
                            }, on: tx)
                    }
                    let free = try await Self.lockable(bid, db)
                    #expect(free, "a refused token locked the bid")
                }
            }
            try await db.withTransaction { tx in
                let receipt = try await BidStore.submit(
                    id: bid, ifRevision: nil,
                    as: .token(AccessToken(value: lead.token)) { use in
                        let use = try #require(use)
                        #expect(use.scopes == [.read, .write])
                        return use.actor
                    }, on: tx)
                #expect(receipt.bidID == bid && receipt.version == 1)
                let free = try await Self.lockable(bid, db)
                #expect(!free, "the lead's submission holds the bid's lock")
            }
            #expect(try await Self.lockable(bid, db))
            let status = try await db.query("SELECT status::text FROM bids WHERE id = \(bid)").first!.decode(String.self)
            #expect(status == "submitted")
        }
    }
}

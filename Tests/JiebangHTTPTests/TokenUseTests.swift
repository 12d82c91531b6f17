import Foundation
import HTTPTypes
import HummingbirdTesting
import Jiebang
import JiebangHTTP
import JiebangTesting
import Logging
import Postgres
import ServiceLifecycle
import Testing

@Suite("Tokens' last-use stamps")
struct TokenUseTests {
    /// The `last_used_at` of `person`'s token, as seconds since 1970.
    static func stamp(_ fixture: APIFixture, _ person: String) async throws -> Double? {
        let digest = AccessToken(value: fixture.tokens[person]!).digest
        return try await fixture.db.query(
            "SELECT extract(epoch FROM last_used_at)::float8 FROM access_tokens WHERE token_hash = \(digest)"
        ).first!.decode(Double?.self)
    }

    /// The id of `person`'s token.
    static func tokenID(_ fixture: APIFixture, _ person: String) async throws -> Int {
        let digest = AccessToken(value: fixture.tokens[person]!).digest
        return try await fixture.db.query("SELECT id FROM access_tokens WHERE token_hash = \(digest)").first!.decode(Int.self)
    }

    @Test("A request's token is stamped by the server's batch within seconds of the request")
    func requestsAreStamped() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let person = APIFixture.people[0]
            #expect(try await Self.stamp(fixture, person) == nil)
            let before = Date().timeIntervalSince1970
            try await fixture.application().test(.router) { client in
                let reply = try await client.call(.get, "/v1/me", as: person, fixture: fixture)
                #expect(reply.status == .ok)
                var stamped: Double?
                for _ in 0..<100 where stamped == nil {
                    stamped = try await Self.stamp(fixture, person)
                    if stamped == nil { try await Task.sleep(for: .milliseconds(50)) }
                }
                let at = try #require(stamped)
                #expect(at >= before - 0.001 && at <= Date().timeIntervalSince1970 + 0.001)
                // Another person's token, unused, stays unstamped.
                #expect(try await Self.stamp(fixture, APIFixture.people[1]) == nil)
            }
        }
    }

    @Test("Uses held at graceful shutdown are written before the service stops")
    func shutdownWritesHeldUses() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            var configuration = TokenUseRecorder.Configuration()
            configuration.flushInterval = .seconds(3600)
            let recorder = TokenUseRecorder(database: db, configuration: configuration)
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: recorder)], logger: Logger(label: "test")))
            let running = Task { try await group.run() }
            let used = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
            recorder.record(tokenID: try await Self.tokenID(fixture, APIFixture.people[0]), at: used)
            recorder.record(tokenID: try await Self.tokenID(fixture, APIFixture.people[0]), at: used - 5)
            #expect(recorder.held == 1)
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(recorder.held == 0)
            #expect(try await Self.stamp(fixture, APIFixture.people[0]) == used.timeIntervalSince1970)
        }
    }

    @Test("A batch that fails is held again and written by the next one")
    func failedBatchIsHeld() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let recorder = TokenUseRecorder(database: db)
            let person = APIFixture.people[0]
            let id = try await Self.tokenID(fixture, person)
            let used = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
            recorder.record(tokenID: id, at: used)
            try await db.execute("ALTER TABLE access_tokens RENAME TO access_tokens_away")
            await #expect(throws: PostgresError.self) { try await recorder.flush() }
            #expect(recorder.held == 1)
            try await db.execute("ALTER TABLE access_tokens_away RENAME TO access_tokens")
            #expect(try await recorder.flush() == 1)
            #expect(recorder.held == 0)
            #expect(try await Self.stamp(fixture, person) == used.timeIntervalSince1970)
        }
    }
}

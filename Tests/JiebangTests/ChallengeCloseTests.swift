import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Closing challenges at their deadline")
struct ChallengeCloseTests {
    @Test("Published challenges whose deadline passed close once, with an audit row; drafts and open ones stay")
    func closesDueChallenges() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let programme = try await BoardFixtures.programme(db)
            let (due, open, draft) = try await db.withConnection { conn in
                (
                    try await BoardFixtures.challenge(conn, programme: programme, title: "稀土永磁材料攻关", content: "稀土永磁材料", deadlineDays: 1),
                    try await BoardFixtures.challenge(conn, programme: programme, title: "氢能储运装备攻关", content: "高压储氢装备", deadlineDays: 30),
                    try await BoardFixtures.challenge(conn, programme: programme, title: "光伏组件回收草稿", content: "光伏组件回收", status: "draft", deadlineDays: 1)
                )
            }
            let inTwoDays = Date().addingTimeInterval(2 * 86_400)
            let closed = try await db.withTransaction { try await ChallengeStore.closeExpired(asOf: inTwoDays, on: $0) }
            #expect(closed == [due])
            let again = try await db.withTransaction { try await ChallengeStore.closeExpired(asOf: inTwoDays, on: $0) }
            #expect(again.isEmpty)
            let states = try await db.query("SELECT id, status::text FROM challenges ORDER BY id").decode((Int, String).self)
            #expect(states.map(\.1) == ["closed", "published", "draft"])
            #expect(states.map(\.0) == [due, open, draft])
            let audited = try await db.query("SELECT count(*) FROM audit_log WHERE action = 'challenge.close'").first!.decode(Int.self)
            #expect(audited == 1)
            var query = BoardStore.Query()
            query.status = .closed
            let board = try await db.withConnection { try await BoardStore.search(query, on: $0) }
            #expect(board.entries.map(\.id) == [due])
        }
    }
}

import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// Matching the demand pool with the result pool (seeds 000 and 004).
@Suite("Matching demands and results")
struct PoolMatchingTests {
    @Test(
        "A demand's suggestions rank the result of its chain with its keywords first, give the reasons, and are the same on every run; a result sees only open demands; another unit gets 404"
    )
    func suggestions() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            func actor(_ name: String) async throws -> Actor {
                try await db.withConnection { try await AccountStore.authenticate(AccessToken(value: fixture.tokens[name]!), on: $0)! }
            }
            let enterprise = try await actor("memberA")
            let institute = try await actor("memberB")
            let demand = try await db.withTransaction {
                try await DemandFiling.file(
                    .init(
                        unitID: fixture.unitA, industryChain: "有色冶金", need: "镍钴湿法冶金中高压酸浸的连续化与回收率提升",
                        contactName: "李娜", contactPhone: "0931-8123456", contactEmail: "li@example.cn"), by: enterprise, on: $0
                ).id
            }
            var near = ResultPoolTests.input(unitID: fixture.unitB)
            near.title = "镍钴湿法冶金连续化工艺"
            var far = ResultPoolTests.input(unitID: fixture.unitB)
            far.title = "高温合金叶片精密铸造"
            far.summary = "航空发动机叶片的定向凝固与缺陷检测方法。"
            far.industryChain = "装备制造"
            far.keywords = ["高温合金"]
            var related = ResultPoolTests.input(unitID: fixture.unitB)
            related.title = "有色金属冶炼烟气治理"
            related.summary = "冶炼烟气中二氧化硫的回收利用技术。"
            related.keywords = ["烟气"]
            var ids: [Int] = []
            for input in [far, related, near] {
                ids.append(try await db.withTransaction { try await ResultFiling.file(input, by: institute, on: $0) }.id)
            }
            let first = try await db.withConnection { try await PoolMatching.forDemand(id: demand, for: enterprise, on: $0) }
            let second = try await db.withConnection { try await PoolMatching.forDemand(id: demand, for: enterprise, on: $0) }
            #expect(first == second)
            #expect(first.first?.id == ids[2], "\(first)")
            #expect(first.first?.reasons.first == "同属有色冶金产业链")
            #expect(first.first?.reasons.contains { $0.hasPrefix("关键词：") && $0.contains("镍钴") && $0.contains("湿法冶金") } == true)
            #expect(first.first?.reasons.contains { $0.hasPrefix("文本相近：共有") } == true)
            #expect(first.map(\.score) == first.map(\.score).sorted(by: >))
            #expect(!first.contains { $0.id == ids[0] } || first.last?.id == ids[0])
            #expect(first.allSatisfy { (0...1).contains($0.score) })

            let reverse = try await db.withConnection { try await PoolMatching.forResult(id: ids[2], for: institute, on: $0) }
            #expect(reverse.map(\.id) == [demand])
            #expect(reverse.first?.title.contains("镍钴") == true)
            try await db.execute("UPDATE demands SET status = 'closed', closed_at = now() WHERE id = \(demand)")
            let closed = try await db.withConnection { try await PoolMatching.forResult(id: ids[2], for: institute, on: $0) }
            #expect(closed.isEmpty)

            let hidden = await #expect(throws: DomainError.self) {
                _ = try await db.withConnection { try await PoolMatching.forDemand(id: demand, for: institute, on: $0) }
            }
            #expect(hidden == .notFound("no demand has id \(demand)"))
            let hiddenResult = await #expect(throws: DomainError.self) {
                _ = try await db.withConnection { try await PoolMatching.forResult(id: ids[2], for: enterprise, on: $0) }
            }
            #expect(hiddenResult == .notFound("no result has id \(ids[2])"))
        }
    }
}

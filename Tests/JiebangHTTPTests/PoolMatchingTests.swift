import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// Matching the demand pool with the result pool (seeds 000 and 004).
@Suite("Matching demands and results")
struct PoolMatchingTests {
    /// A small deterministic generator (SplitMix64).
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

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
            let before = try await db.withConnection { try await PoolMatching.forDemand(id: demand, for: enterprise, on: $0) }
            #expect(before.isEmpty, "the suggestions are the queue's work")
            try await Self.drainRematches(db)
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

    @Test(
        "A change to a demand or a result requests its rematch in the change's own transaction, once however often it changes, none when rolled back or when nothing matched changes; one job waits for every request"
    )
    func changesEnqueueRematches() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await db.execute("DELETE FROM jobs")
            try await db.execute("DELETE FROM pool_rematch_requests")
            do {
                try await db.withTransaction { tx in
                    try await Self.insertDemand(unit: fixture.unitA, need: "回滚的需求文本内容", on: tx)
                    throw CancellationError()
                }
            } catch is CancellationError {}
            #expect(try await Self.requests(db).isEmpty)
            #expect(try await Self.waitingJobs(db) == 0)
            let demand = try await db.withTransaction { try await Self.insertDemand(unit: fixture.unitA, need: "稀土永磁材料的晶界扩散", on: $0) }
            #expect(try await Self.requests(db) == ["demand \(demand)"])
            #expect(try await Self.waitingJobs(db) == 1)
            try await db.execute("UPDATE demands SET need = '稀土永磁材料的晶界扩散工艺' WHERE id = \(demand)")
            try await db.execute("UPDATE demands SET need = '稀土永磁材料的晶界扩散新工艺' WHERE id = \(demand)")
            try await db.execute("UPDATE demands SET remarks = '备注不影响匹配' WHERE id = \(demand)")
            #expect(try await Self.requests(db) == ["demand \(demand)"], "one request for the demand, however often it changed")
            #expect(try await Self.waitingJobs(db) == 1, "one job waits for every request")
            try await db.execute("DELETE FROM pool_rematch_requests")
            try await db.execute("UPDATE jobs SET state = 'completed', finished_at = now() WHERE kind = 'pools.rematch'")
            try await db.execute("UPDATE demands SET status = 'closed', closed_at = now() WHERE id = \(demand)")
            let result = try await db.withTransaction { tx in
                try await Self.insertResult(
                    unit: fixture.unitB, title: "镍钴湿法冶金新工艺", summary: "高压酸浸提取镍钴", keywords: ["镍钴"], chain: "有色冶金", on: tx)
            }
            #expect(try await Self.requests(db) == ["demand \(demand)", "result \(result)"])
            #expect(try await Self.waitingJobs(db) == 1)
        }
    }

    @Test(
        "The rematch job carries out the requests in batches, deletes them in its own transaction, and while a full run holds the pools comes back later without waiting"
    )
    func requestsAreCarriedOut() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await db.execute("DELETE FROM jobs")
            try await db.execute("DELETE FROM pool_rematch_requests")
            try await db.withTransaction { tx in
                for n in 0..<5 {
                    try await Self.insertDemand(unit: fixture.unitA, need: "稀土永磁材料的晶界扩散第\(n)项", on: tx)
                }
            }
            #expect(try await db.withTransaction { try await PoolMatches.rematchRequested(batch: 2, on: $0) } == 2)
            #expect(try await Self.requests(db).count == 3)
            do {
                try await db.withTransaction { tx in
                    #expect(try await PoolMatches.rematchRequested(batch: 10, on: tx) == 3)
                    throw CancellationError()
                }
            } catch is CancellationError {}
            #expect(try await Self.requests(db).count == 3, "a rolled-back job leaves its requests for the retry")
            try await db.withConnection { holder in
                try await holder.execute("BEGIN")
                try await holder.execute("SELECT pg_advisory_xact_lock(pool_matches_lock_key())")
                let started = ContinuousClock.now
                #expect(try await db.withTransaction { try await PoolMatches.rematchRequested(batch: 10, on: $0) } == 0)
                #expect(ContinuousClock.now - started < .seconds(2), "it does not wait for the lock")
                try await holder.execute("ROLLBACK")
            }
            let later = try await db.query(
                "SELECT count(*)::bigint FROM jobs WHERE kind = 'pools.rematch' AND state IN ('available', 'scheduled')")
            #expect(try later.first!.decode(Int.self) == 1)
            #expect(try await db.withTransaction { try await PoolMatches.rematchRequested(batch: 10, on: $0) } == 3)
            #expect(try await Self.requests(db).isEmpty)
        }
    }

    static func requests(_ db: PostgresClient) async throws -> [String] {
        try await db.query("SELECT record || ' ' || record_id FROM pool_rematch_requests ORDER BY requested_at, record, record_id")
            .decode(String.self)
    }

    static func waitingJobs(_ db: PostgresClient) async throws -> Int {
        try await db.query("SELECT count(*)::bigint FROM jobs WHERE kind = 'pools.rematch' AND state IN ('available', 'scheduled')")
            .first!.decode(Int.self)
    }

    @Test(
        "Rematching record by record after changes to demands, results and people gives exactly the lists a full run gives, and a full run gives the same lists every time"
    )
    func incrementalEqualsFullRun() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            var random = SplitMix(seed: 26)
            let words = Array("稀土永磁晶界扩散镍钴湿法冶金高压酸浸烟气治理定向凝固叶片铸造光伏组件储能电池氢能燃料智能装备传感检测生物医药疫苗".map(String.init))
            func text(_ count: Int) -> String {
                (0..<count).map { _ in
                    let at = random.next(words.count / 2) * 2
                    return words[at] + words[at + 1]
                }.joined(separator: "，")
            }
            let chains = ["新材料", "有色冶金", "新能源"]
            var demands: [Int] = []
            var results: [Int] = []
            var talents: [Int] = []
            try await db.withTransaction { tx in
                for n in 0..<12 {
                    talents.append(
                        try await Self.insertTalent(
                            unit: fixture.unitB, fields: [text(1)], keywords: [text(1)], summary: text(5), chains: [chains[n % 3]], on: tx))
                }
                for n in 0..<30 {
                    demands.append(try await Self.insertDemand(unit: fixture.unitA, need: text(5), chain: chains[n % 3], on: tx))
                    results.append(
                        try await Self.insertResult(
                            unit: fixture.unitB, title: text(2), summary: text(6), keywords: [text(1), text(1)], chain: chains[(n + 1) % 3],
                            on: tx))
                }
            }
            try await db.withTransaction { _ = try await PoolMatches.rematchAll(on: $0) }
            let full = try await Self.lists(db)
            #expect(full.count > 20, "the data match: \(full.count) lists")
            try await db.withTransaction { _ = try await PoolMatches.rematchAll(on: $0) }
            #expect(try await Self.lists(db) == full)
            try await Self.expectProbesCoverEveryPair(db)
            try await Self.drainRematches(db)
            #expect(try await Self.lists(db) == full, "rematching what the full run matched changes nothing")

            try await db.withTransaction { tx in
                for n in 0..<8 { try await tx.execute("UPDATE demands SET need = \(text(5)) WHERE id = \(demands[n * 3])") }
                for n in 0..<2 {
                    try await tx.execute("UPDATE demands SET status = 'closed', closed_at = now() WHERE id = \(demands[n * 7 + 1])")
                }
                for n in 0..<5 {
                    try await tx.execute("UPDATE results SET summary = \(text(6)), keywords = \([text(1)]) WHERE id = \(results[n * 5])")
                }
                for n in 0..<3 { try await tx.execute("UPDATE talents SET summary = \(text(5)) WHERE id = \(talents[n * 4])") }
                try await tx.execute("UPDATE talents SET availability = 'unavailable' WHERE id = \(talents[1])")
                for n in 0..<4 { _ = try await Self.insertDemand(unit: fixture.unitA, need: text(5), chain: chains[n % 3], on: tx) }
                for n in 0..<3 {
                    _ = try await Self.insertResult(
                        unit: fixture.unitB, title: text(2), summary: text(6), keywords: [text(1)], chain: chains[n % 3], on: tx)
                }
            }
            try await Self.expectProbesCoverEveryPair(db)
            try await Self.drainRematches(db)
            let incremental = try await Self.lists(db)
            try await db.withTransaction { _ = try await PoolMatches.rematchAll(on: $0) }
            try await Self.expectProbesCoverEveryPair(db)
            let recomputed = try await Self.lists(db)
            #expect(incremental == recomputed)
            #expect(incremental != full)
            let closed = try await db.query(
                "SELECT count(*)::bigint FROM pool_matches m JOIN demands d ON d.id = m.demand_id WHERE d.status <> 'open'")
            #expect(try closed.first!.decode(Int.self) == 0, "a closed demand keeps no suggestion")
            let unavailable = try await db.query(
                "SELECT count(*)::bigint FROM pool_matches WHERE offer_kind = 'talent' AND offer_id = \(talents[1])")
            #expect(try unavailable.first!.decode(Int.self) == 0, "an unavailable person is offered to no one")
            #expect(incremental.contains { $0.hasPrefix("talent ") } && incremental.contains { $0.contains(" talents: ") })
        }
    }

    /// The test's pools are small enough that every record looks the other pool up by all its pairs and every
    /// shortlist holds every record sharing one: the condition under which rematches and full runs must agree.
    static func expectProbesCoverEveryPair(_ db: PostgresClient) async throws {
        let rows = try await db.query(
            """
            SELECT (SELECT count(*) FROM demands WHERE status = 'open' AND cardinality(pool_probes(pairs)) <> cardinality(pairs))
                 + (SELECT count(*) FROM pool_offers WHERE cardinality(pool_probes(pairs)) <> cardinality(pairs))
            """)
        #expect(try rows.first!.decode(Int.self) == 0)
    }

    @discardableResult
    static func insertDemand(unit: Int, need: String, chain: String = "新材料", on tx: PostgresConnection) async throws -> Int {
        try await tx.query(
            """
            INSERT INTO demands (unit_id, region_code, industry_chain, need, contact_name, contact_phone, contact_email)
            VALUES (\(unit), '620100', \(chain), \(need), '王工', '0931-8000000', 'need@example.cn') RETURNING id
            """
        ).first!.decode(Int.self)
    }

    static func insertResult(
        unit: Int, title: String, summary: String, keywords: [String], chain: String, on tx: PostgresConnection
    ) async throws -> Int {
        try await tx.query(
            """
            INSERT INTO results (unit_id, region_code, title, summary, domain, industry_chain, keywords, maturity, ip_status,
                                 contact_name, contact_phone, contact_email)
            VALUES (\(unit), '620100', \(title), \(summary + "。成果简介"), '技术', \(chain), \(Array(Set(keywords)).sorted()), 5,
                    'patent_granted', '李老师', '0931-8000001', 'result@example.cn')
            RETURNING id
            """
        ).first!.decode(Int.self)
    }

    static func insertTalent(
        unit: Int, fields: [String], keywords: [String], summary: String, chains: [String], on tx: PostgresConnection
    ) async throws -> Int {
        try await tx.query(
            """
            INSERT INTO talents (unit_id, region_code, name, fields, industry_chains, keywords, summary, contact_name,
                                 contact_phone, contact_email)
            VALUES (\(unit), '620100', '张研究员', \(fields), \(chains), \(Array(Set(keywords)).sorted()), \(summary + "。研究方向"),
                    '张研究员', '0931-8000002', 'talent@example.cn')
            RETURNING id
            """
        ).first!.decode(Int.self)
    }

    /// Runs the product's job worker until no rematch waits or runs.
    static func drainRematches(_ db: PostgresClient) async throws {
        try await WebhookTests.withWorker(db) {
            let deadline = ContinuousClock.now + .seconds(30)
            while try await pendingRematches(db) > 0 {
                guard ContinuousClock.now < deadline else {
                    Issue.record("rematch jobs still pending after 30 s")
                    return
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    static func pendingRematches(_ db: PostgresClient) async throws -> Int {
        try await db.query(
            """
            SELECT (SELECT count(*) FROM pool_rematch_requests)
                 + (SELECT count(*) FROM jobs WHERE kind = 'pools.rematch' AND state IN ('available', 'scheduled', 'running', 'retryable'))
            """
        ).first!.decode(Int.self)
    }

    /// Every stored list: each demand's best twenty and each result's, as (record, other, score) triples.
    static func lists(_ db: PostgresClient) async throws -> [String] {
        let rows = try await db.query(
            """
            SELECT 'demand ' || demand_id || ' ' || offer_kind || 's: '
                   || string_agg(offer_id || '@' || score || '/' || shared || '/' || keywords::text, ' ' ORDER BY score DESC, offer_id)
            FROM (SELECT *, row_number() OVER (PARTITION BY demand_id, offer_kind ORDER BY score DESC, offer_id) AS place
                  FROM pool_matches) m
            WHERE place <= 20 GROUP BY demand_id, offer_kind
            UNION ALL
            SELECT offer_kind || ' ' || offer_id || ': ' || string_agg(demand_id || '@' || score, ' ' ORDER BY score DESC, demand_id)
            FROM (SELECT *, row_number() OVER (PARTITION BY offer_kind, offer_id ORDER BY score DESC, demand_id) AS place
                  FROM pool_matches) m
            WHERE place <= 20 GROUP BY offer_kind, offer_id
            ORDER BY 1
            """)
        return try rows.decode(String.self)
    }
}

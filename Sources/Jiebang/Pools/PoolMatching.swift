public import Postgres

/// Matching the pools (seeds 000 and 004): for a demand, the results and the people (talents) that could serve it;
/// for a result or a talent, the open demands it could serve. Each suggestion is scored by the database (`pool_match_score` in
/// `definitions/23_pool_matching.sql`: the same industry chain, the result's keywords found in the demand, and the texts'
/// Chinese character pair overlap, from the board's grams) and carries its reasons. Equal data give equal lists: ties
/// go by id. The lists are read from `pool_matches`, which the queue keeps (`PoolMatches`): a change shows once its
/// rematch job has run, usually within a second.
///
/// Suggestions are for the record's readers only: a unit for its own records, a bureau for its region's or
/// province's. A suggestion shows what the other side offers or needs, never its contacts; only open demands are
/// suggested (a lapsed or closed one has left the pool).
public enum PoolMatching {
    /// One suggestion.
    public struct Suggestion: Codable, Sendable, Hashable {
        /// The suggested record: a result's id for a demand, a demand's for a result.
        public var id: Int
        /// A result's title, or the beginning of a demand's text.
        public var title: String
        public var unitName: String
        public var regionCode: String
        public var industryChain: String
        /// A result's 技术成熟度 (nil for a demand).
        public var maturity: Int?
        /// From 0 to 1.
        public var score: Double
        /// Why, in Chinese: 同属…产业链, 关键词：…, 文本相近：….
        public var reasons: [String]
    }

    /// At most this many suggestions per record.
    public static let limit = 20
    /// The least score suggested (`definitions/26_pool_matches.sql` keeps none below): below it only a word pair
    /// or two in common, which says nothing.
    public static let minimumScore = 0.05

    /// The results that could serve demand `id`, best first.
    /// - Throws: `DomainError.notFound` for a demand the actor may not read, as for a missing one.
    public static func forDemand(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> [Suggestion] {
        _ = try await DemandFiling.demand(id: id, for: actor, on: db)
        let rows = try await db.query(
            """
            SELECT r.id, r.title, u.name, r.region_code, r.industry_chain, r.maturity::integer, m.same_chain, m.keywords,
                   m.shared, m.score::float8
            FROM pool_matches m
            JOIN results r ON r.id = m.offer_id
            JOIN units u ON u.id = r.unit_id
            WHERE m.demand_id = \(id) AND m.offer_kind = 'result'
            ORDER BY m.score DESC, m.offer_id
            LIMIT \(limit)
            """)
        return try rows.map { row in
            let (id, title, unitName, region, chain, maturity, sameChain, hits, shared, score) =
                try row.decode((Int, String, String, String, String, Int, Bool, [String], Int, Double).self)
            return Suggestion(
                id: id, title: title, unitName: unitName, regionCode: region, industryChain: chain, maturity: maturity, score: score,
                reasons: reasons(chain: chain, sameChain: sameChain, keywords: hits, shared: shared))
        }
    }

    /// The people (talents) who could serve demand `id`, best first: a talent's title is the person's name and
    /// 职称, its industry chains joined by 、.
    /// - Throws: `DomainError.notFound` for a demand the actor may not read, as for a missing one.
    public static func talentsForDemand(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> [Suggestion] {
        let demand = try await DemandFiling.demand(id: id, for: actor, on: db)
        let rows = try await db.query(
            """
            SELECT t.id, btrim(t.name || ' ' || t.title), u.name, t.region_code, t.industry_chains, m.same_chain, m.keywords,
                   m.shared, m.score::float8
            FROM pool_matches m
            JOIN talents t ON t.id = m.offer_id
            JOIN units u ON u.id = t.unit_id
            WHERE m.demand_id = \(id) AND m.offer_kind = 'talent' AND t.availability <> 'unavailable'
            ORDER BY m.score DESC, m.offer_id
            LIMIT \(limit)
            """)
        return try rows.map { row in
            let (id, title, unitName, region, chains, sameChain, hits, shared, score) =
                try row.decode((Int, String, String, String, [String], Bool, [String], Int, Double).self)
            return Suggestion(
                id: id, title: title, unitName: unitName, regionCode: region, industryChain: chains.joined(separator: "、"),
                maturity: nil, score: score,
                reasons: reasons(chain: demand.industryChain, sameChain: sameChain, keywords: hits, shared: shared))
        }
    }

    /// The open demands result `id` could serve, best first.
    /// - Throws: `DomainError.notFound` for a result the actor may not read, as for a missing one.
    public static func forResult(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> [Suggestion] {
        _ = try await ResultFiling.result(id: id, for: actor, on: db)
        return try await demands(forOffer: "result", id: id, on: db)
    }

    /// The open demands talent `id` could serve, best first.
    /// - Throws: `DomainError.notFound` for a talent the actor may not read, as for a missing one.
    public static func forTalent(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> [Suggestion] {
        _ = try await TalentFiling.talent(id: id, for: actor, on: db)
        return try await demands(forOffer: "talent", id: id, on: db)
    }

    /// The open demands stored for an offer, best first.
    static func demands(forOffer kind: String, id: Int, on db: PostgresConnection) async throws -> [Suggestion] {
        let rows = try await db.query(
            """
            SELECT d.id, d.need, u.name, d.region_code, d.industry_chain, m.same_chain, m.keywords, m.shared, m.score::float8
            FROM pool_matches m
            JOIN demands d ON d.id = m.demand_id
            JOIN units u ON u.id = d.unit_id
            WHERE m.offer_kind = \(kind) AND m.offer_id = \(id) AND d.status = 'open'
            ORDER BY m.score DESC, m.demand_id
            LIMIT \(limit)
            """)
        return try rows.map { row in
            let (id, need, unitName, region, chain, sameChain, hits, shared, score) =
                try row.decode((Int, String, String, String, String, Bool, [String], Int, Double).self)
            return Suggestion(
                id: id, title: need.count > 60 ? String(need.prefix(60)) + "…" : need, unitName: unitName, regionCode: region,
                industryChain: chain, maturity: nil, score: score,
                reasons: reasons(chain: chain, sameChain: sameChain, keywords: hits, shared: shared))
        }
    }

    /// The reasons of a suggestion, in Chinese, in a fixed order.
    static func reasons(chain: String, sameChain: Bool, keywords: [String], shared: Int) -> [String] {
        var reasons: [String] = []
        if sameChain { reasons.append("同属\(chain)产业链") }
        if !keywords.isEmpty { reasons.append("关键词：" + keywords.joined(separator: "、")) }
        if shared > 0 { reasons.append("文本相近：共有\(shared)个词组") }
        return reasons
    }
}

public import Foundation
public import Postgres

/// What happens to a submitted bid upstream: the city's recommendation (组织推荐) and the province's
/// formal check (形式审查), and the cities' quotas.
public enum BidReview {
    /// A recommender's decision on a submitted bid.
    public enum Decision: String, Codable, Sendable, Hashable, CaseIterable {
        /// Recommend it upward, with the recommendation opinion (推荐意见).
        case recommend
        /// Send it back to the lead for revision (only while the window is open).
        case `return`
        /// Decline it, with the reason; its units are freed.
        case decline

        var action: BidStatus.Action {
            switch self {
            case .recommend: .recommend
            case .return: .return
            case .decline: .decline
            }
        }
    }

    /// The items of the formal check, each passed or failed with a reason.
    public static let formalCheckItems: [(code: String, name: String)] = [
        ("materials_complete", "申报材料齐全"),
        ("consortium_agreement", "联合体协议有效"),
        ("funding_compliant", "经费预算符合要求"),
        ("commitment_signed", "承诺书已签署"),
        ("recommendation_report", "推荐报告齐全"),
    ]

    /// One item's result.
    public struct ItemResult: Codable, Sendable, Hashable {
        public var item: String
        public var passed: Bool
        /// Why it failed (required when it did).
        public var reason: String?

        public init(item: String, passed: Bool, reason: String? = nil) {
            self.item = item
            self.passed = passed
            self.reason = reason
        }
    }

    /// The city of the bid's lead unit decides on it.
    /// - Throws: `DomainError` (another city, a bid not submitted, a return after the deadline, the quota used).
    public static func decide(
        bidID: Int, _ decision: Decision, opinion: String, by actor: Actor, on tx: PostgresConnection
    ) async throws -> BidStore.Bid {
        try AccessPolicy.require(actor, [.municipalRecommender], to: "recommend bids")
        let bid = try await BidStore.load(id: bidID, on: tx, lock: true)
        // A draft, or another region's bid, is one the recommender cannot see: as if it did not exist.
        guard bid.status != .draft, bid.regionCode == actor.regionCode else { throw DomainError.notFound("no bid has id \(bidID)") }
        let next: BidStatus
        do {
            next = try bid.status.applying(decision.action)
        } catch {
            throw DomainError.conflict(field: "status", message: error.description)
        }
        var checker = FieldChecker()
        checker.length("opinion", opinion, 2...5000)
        try checker.check()
        if decision == .return {
            let open = try await tx.query(
                "SELECT application_deadline > now() FROM challenges WHERE id = \(bid.challengeID)"
            ).first!.decode(Bool.self)
            guard open else {
                throw DomainError.conflict(field: "decision", message: "the window has closed: the bid can no longer be returned")
            }
        }
        if decision == .recommend {
            let (quota, used) = try await quotaUsage(programmeID: bid.programmeID, region: bid.regionCode, on: tx)
            if let quota, used >= quota {
                throw DomainError.conflict(field: "decision", message: "your region's quota of \(quota) recommendations is used")
            }
        }
        return try await ConstraintCatalog.translating {
            try await tx.execute("UPDATE bids SET status = \(next.rawValue)::bid_status WHERE id = \(bidID)")
            try await tx.execute(
                """
                INSERT INTO bid_recommendations (bid_id, version, decision, opinion, actor_id)
                VALUES (\(bidID), \(bid.version), \(decision.rawValue), \(opinion.trimmingCharacters(in: .whitespacesAndNewlines)), \(actor.userID))
                """)
            try await BidStore.audit(
                actor, "bid.\(decision.rawValue)", bidID, before: ["status": bid.status.rawValue],
                after: ["status": next.rawValue], on: tx)
            if decision == .return {
                try await BidStore.notify(
                    bid.leadUnitID, .bidReturned, bidID: bidID, subject: "bid:\(bidID):v\(bid.version)",
                    extra: ["opinion": opinion.trimmingCharacters(in: .whitespacesAndNewlines)], on: tx)
            }
            return try await BidStore.load(id: bidID, on: tx)
        }
    }

    /// The province checks a recommended bid item by item; it passes when every item does.
    /// - Throws: `DomainError` (another bureau, a bid not recommended, items missing or unknown).
    public static func formalCheck(
        bidID: Int, _ results: [ItemResult], by actor: Actor, on tx: PostgresConnection
    ) async throws -> BidStore.Bid {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "check bids")
        let bid = try await BidStore.load(id: bidID, on: tx, lock: true)
        let programme = try await ProgrammeStore.programme(id: bid.programmeID, on: tx)
        try AccessPolicy.requireManager(
            ofBureau: programme.bureauID, actor, missing: "no bid has id \(bidID)",
            reason: "only a publisher of \(programme.bureauName) checks bid \(bidID)")
        var checker = FieldChecker()
        let known = Set(formalCheckItems.map(\.code))
        for (index, result) in results.enumerated() {
            if !known.contains(result.item) {
                checker.add("items[\(index)].item", "must be one of \(formalCheckItems.map(\.code).joined(separator: ", "))")
            }
            if !result.passed, (result.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines).count < 2 {
                checker.add("items[\(index)].reason", "a failed item needs a reason")
            }
        }
        let given = Set(results.map(\.item))
        if given.count != results.count { checker.add("items", "names an item twice") }
        let missing = formalCheckItems.map(\.code).filter { !given.contains($0) }
        if !missing.isEmpty { checker.add("items", "misses \(missing.joined(separator: ", "))") }
        try checker.check()
        let passed = results.allSatisfy(\.passed)
        let next: BidStatus
        do {
            next = try bid.status.applying(passed ? .passFormalCheck : .failFormalCheck)
        } catch {
            throw DomainError.conflict(field: "status", message: error.description)
        }
        return try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                INSERT INTO bid_formal_checks (bid_id, item, passed, reason, checked_by)
                SELECT \(bidID), item, passed, reason, \(actor.userID)
                FROM unnest(\(results.map(\.item)), \(results.map(\.passed)), \(results.map { $0.reason ?? "" }))
                     AS t(item, passed, reason)
                ON CONFLICT (bid_id, item) DO UPDATE SET passed = EXCLUDED.passed, reason = EXCLUDED.reason,
                    checked_by = EXCLUDED.checked_by, checked_at = now()
                """)
            try await tx.execute("UPDATE bids SET status = \(next.rawValue)::bid_status WHERE id = \(bidID)")
            try await BidStore.audit(
                actor, "bid.formal_check", bidID, before: ["status": bid.status.rawValue], after: ["status": next.rawValue],
                on: tx)
            return try await BidStore.load(id: bidID, on: tx)
        }
    }

    /// The items of a bid's formal check so far.
    public static func formalCheckResults(bidID: Int, on db: PostgresConnection) async throws -> [ItemResult] {
        try await db.query("SELECT item, passed, reason FROM bid_formal_checks WHERE bid_id = \(bidID) ORDER BY item").map {
            let (item, passed, reason) = try $0.decode((String, Bool, String).self)
            return ItemResult(item: item, passed: passed, reason: reason.isEmpty ? nil : reason)
        }
    }

    /// Sets (or, with nil, removes) a city's recommendation quota in a programme of the publisher's bureau.
    public static func setQuota(
        programmeID: Int, region: String, quota: Int?, by actor: Actor, on tx: PostgresConnection
    ) async throws {
        let programme = try await ProgrammeStore.programme(id: programmeID, on: tx)
        try AccessPolicy.requireManager(
            ofBureau: programme.bureauID, actor, missing: "no programme has id \(programmeID)",
            reason: "only a publisher of \(programme.bureauName) sets quotas of programme \(programmeID)")
        do {
            _ = try RegionCode(region)
        } catch {
            throw DomainError.invalid("regionCode", error.description)
        }
        if let quota, !(0...1000).contains(quota) { throw DomainError.invalid("quota", "must be between 0 and 1000") }
        if let quota {
            try await tx.execute(
                """
                INSERT INTO recommendation_quotas (programme_id, region_code, quota) VALUES (\(programmeID), \(region), \(quota))
                ON CONFLICT (programme_id, region_code) DO UPDATE SET quota = EXCLUDED.quota
                """)
        } else {
            try await tx.execute("DELETE FROM recommendation_quotas WHERE programme_id = \(programmeID) AND region_code = \(region)")
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "programme.quota", entity: "programme",
            entityID: "\(programmeID)", after: ["regionCode": region, "quota": quota.map { "\($0)" } ?? "none"], on: tx)
    }

    static func quota(programmeID: Int, region: String, on db: PostgresConnection) async throws -> Int? {
        try await db.query(
            "SELECT quota FROM recommendation_quotas WHERE programme_id = \(programmeID) AND region_code = \(region)"
        ).first?.decode(Int.self)
    }

    /// A region's recommendation quota in a programme (nil: no quota) and the recommendations it has used
    /// (bids recommended, or formally checked after that).
    public static func quotaUsage(programmeID: Int, region: String, on db: PostgresConnection) async throws -> (quota: Int?, used: Int) {
        let used = try await db.query(
            """
            SELECT count(*) FROM bids WHERE programme_id = \(programmeID) AND region_code = \(region)
              AND status IN ('recommended', 'formal_passed', 'formal_failed')
            """
        ).first!.decode(Int.self)
        return (try await quota(programmeID: programmeID, region: region, on: db), used)
    }
}

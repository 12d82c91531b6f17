public import Postgres

extension BidStore {
    /// What the content and the consortium must satisfy to be submitted: the content's own rules, the
    /// programme's funding cap and the challenge's ceiling, and the consortium's size. Empty when they hold.
    ///
    /// `submit` refuses with exactly these issues, and `blockers` shows them before anyone tries.
    static func submissionIssues(
        content: BidContent, indicatorCount: Int, policy: FundingPolicy, ceilingFen: Int64, acceptedPartners: Int,
        minPartners: Int, maxSize: Int?
    ) -> [FieldIssue] {
        var issues: [FieldIssue] = []
        do {
            try content.checkSubmission(indicatorCount: indicatorCount, policy: policy, challengeCeilingFen: ceilingFen)
        } catch {
            if case .invalid(let found) = error { issues += found }
        }
        if acceptedPartners < minPartners {
            issues.append(
                FieldIssue(
                    field: "members",
                    message: "the consortium needs at least \(minPartners) accepted partner(s); it has \(acceptedPartners)"))
        }
        if let maxSize, 1 + acceptedPartners > maxSize {
            issues.append(
                FieldIssue(field: "members", message: "the consortium may have at most \(maxSize) units; it has \(1 + acceptedPartners)"))
        }
        return issues
    }

    /// Every rule that would refuse submitting the bid now, without submitting it: its status, the
    /// challenge's window, the content and consortium (`submissionIssues`), and a unit of the consortium
    /// already in another live bid of the programme. Empty when a submission would pass, barring a race
    /// (which the database still refuses at submission).
    /// - Throws: `DomainError` when the actor may not read the bid.
    public static func blockers(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> [FieldIssue] {
        let bid = try await bid(id: id, for: actor, on: db)
        guard
            let row = try await db.query(
                """
                SELECT c.status::text, c.application_deadline > now(), cardinality(c.indicators), c.funding_ceiling_fen,
                       p.min_partners, p.max_consortium_size, p.funding_ratio_cap_bp, p.funding_absolute_cap_fen,
                       p.funding_mode
                FROM challenges c JOIN programmes p ON p.id = c.programme_id
                WHERE c.id = \(bid.challengeID)
                """
            ).first
        else { throw DomainError.notFound("no challenge has id \(bid.challengeID)") }
        let challengeStatus = try row.decode(String.self, at: 0)
        let open = try row.decode(Bool.self, at: 1)
        let policy = FundingPolicy(
            ratioCapBasisPoints: try row.decode(Int.self, at: 6), absoluteCapFen: try row.decode(Int64.self, at: 7),
            mode: FundingPolicy.Mode(rawValue: try row.decode(String.self, at: 8)) ?? .upfront)
        var issues: [FieldIssue] = []
        do {
            _ = try bid.status.applying(.submit)
        } catch {
            issues.append(FieldIssue(field: "status", message: error.description))
        }
        do {
            try requireOpen(challengeID: bid.challengeID, status: challengeStatus, open: open)
        } catch {
            if case .conflict(let field, let message) = error { issues.append(FieldIssue(field: field ?? "challengeID", message: message)) }
        }
        let accepted = bid.members.filter { $0.status == "accepted" }
        issues += submissionIssues(
            content: bid.content, indicatorCount: try row.decode(Int.self, at: 2), policy: policy,
            ceilingFen: try row.decode(Int64.self, at: 3), acceptedPartners: accepted.filter { $0.role == "partner" }.count,
            minPartners: try row.decode(Int.self, at: 4), maxSize: try row.decode(Int?.self, at: 5))
        if let clash = try await liveClash(bid: bid, units: accepted, on: db), case .conflict(let field, let message) = clash {
            issues.append(FieldIssue(field: field ?? "members", message: message))
        }
        return issues
    }
}

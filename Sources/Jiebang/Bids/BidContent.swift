public import Foundation

/// What the lead writes in a bid: the technical route, the answers to the indicators, the money, the team.
public struct BidContent: Codable, Sendable, Hashable {
    /// One person of the team.
    public struct TeamMember: Codable, Sendable, Hashable {
        public var name: String
        public var title: String
        public var unit: String
        public var role: String

        public init(name: String, title: String, unit: String, role: String) {
            self.name = name
            self.title = title
            self.unit = unit
            self.role = role
        }
    }

    /// 技术路线.
    public var technicalRoute: String
    /// 研发基础条件.
    public var rdFoundation: String
    /// One answer per indicator of the challenge, in its order.
    public var indicatorAnswers: [String]
    /// 项目总投资, in fen.
    public var totalInvestmentFen: Int64
    /// 自筹资金, in fen.
    public var selfFundingFen: Int64
    /// 申请支持资金, in fen.
    public var requestedFundingFen: Int64
    public var team: [TeamMember]
    /// The lead commits to finish by the challenge's completion deadline.
    public var completionCommitment: Bool

    public init(
        technicalRoute: String, rdFoundation: String, indicatorAnswers: [String], totalInvestmentFen: Int64,
        selfFundingFen: Int64, requestedFundingFen: Int64, team: [TeamMember], completionCommitment: Bool
    ) {
        self.technicalRoute = technicalRoute
        self.rdFoundation = rdFoundation
        self.indicatorAnswers = indicatorAnswers
        self.totalInvestmentFen = totalInvestmentFen
        self.selfFundingFen = selfFundingFen
        self.requestedFundingFen = requestedFundingFen
        self.team = team
        self.completionCommitment = completionCommitment
    }

    /// Checks what a draft may hold at any time: lengths and amounts.
    /// - Throws: `DomainError.invalid` listing every field at fault.
    public func checkDraft() throws(DomainError) {
        var checker = FieldChecker()
        checkShape(&checker)
        try checker.check()
    }

    /// Checks what a submission needs: everything filled in, the funding within the programme's cap and
    /// the challenge's funding ceiling.
    /// - Throws: `DomainError.invalid` listing every field at fault.
    public func checkSubmission(indicatorCount: Int, policy: FundingPolicy, challengeCeilingFen: Int64) throws(DomainError) {
        var checker = FieldChecker()
        checkShape(&checker)
        checker.length("technicalRoute", technicalRoute, 10...20_000)
        checker.length("rdFoundation", rdFoundation, 10...20_000)
        if indicatorAnswers.count != indicatorCount {
            checker.add(
                "indicatorAnswers", "must answer each of the challenge's \(indicatorCount) indicators, not \(indicatorAnswers.count)")
        }
        for (index, answer) in indicatorAnswers.enumerated() where FieldChecker.trimmedLength(answer) == 0 {
            checker.add("indicatorAnswers[\(index)]", "is required")
        }
        if totalInvestmentFen <= 0 { checker.add("totalInvestmentFen", "must be positive") }
        if team.isEmpty { checker.add("team", "must name at least one person") }
        if !completionCommitment {
            checker.add("completionCommitment", "the lead must commit to finish by the challenge's completion deadline")
        }
        if totalInvestmentFen > 0 {
            do {
                try policy.check(
                    requestedFen: requestedFundingFen, totalInvestmentFen: totalInvestmentFen,
                    challengeCeilingFen: challengeCeilingFen)
            } catch {
                checker.add("requestedFundingFen", error.description)
            }
        }
        try checker.check()
    }

    private func checkShape(_ checker: inout FieldChecker) {
        checker.maxLength("technicalRoute", technicalRoute, 20_000)
        checker.maxLength("rdFoundation", rdFoundation, 20_000)
        if indicatorAnswers.count > 50 { checker.add("indicatorAnswers", "must have at most 50 answers") }
        for (index, answer) in indicatorAnswers.enumerated() {
            checker.maxLength("indicatorAnswers[\(index)]", answer, 2000)
        }
        if totalInvestmentFen < 0 { checker.add("totalInvestmentFen", "must not be negative") }
        if selfFundingFen < 0 { checker.add("selfFundingFen", "must not be negative") }
        if requestedFundingFen < 0 { checker.add("requestedFundingFen", "must not be negative") }
        if selfFundingFen >= 0, requestedFundingFen >= 0, totalInvestmentFen >= 0,
            selfFundingFen.addingReportingOverflow(requestedFundingFen).partialValue > totalInvestmentFen
                || selfFundingFen.addingReportingOverflow(requestedFundingFen).overflow
        {
            checker.add("selfFundingFen", "self-funding plus requested funding must not exceed the total investment")
        }
        if team.count > 100 { checker.add("team", "must have at most 100 people") }
        for (index, person) in team.enumerated() {
            checker.name("team[\(index)].name", person.name, 1...100)
            checker.maxLength("team[\(index)].title", person.title, 100)
            checker.maxLength("team[\(index)].unit", person.unit, 200)
            checker.maxLength("team[\(index)].role", person.role, 200)
        }
    }
}

public import Foundation
public import Postgres

extension ChallengeDrafting {
    /// What a bureau sends to turn a demand into a draft challenge in one step (issue 26): the programme, what a
    /// demand cannot say (deadlines, funding, category, indicators), and any field it wants other than the demand's.
    ///
    /// Every field decodes as optional so that a missing one is a 422 naming it, as the draft's other rules are.
    public struct DemandDraft: Codable, Sendable, Hashable {
        public var programmeID: Int?
        public var applicationDeadline: Date?
        /// `YYYY-MM-DD`.
        public var completionDeadline: String?
        public var fundingCeilingFen: Int64?
        /// One of `Input.categories`.
        public var category: String?
        /// 考核指标: a demand states a need, not how to measure its solution.
        public var indicators: [String]?
        /// Default: the need's first line, at most 40 characters.
        public var title: String?
        /// Default: the need (its first 2,000 characters).
        public var task: String?
        /// Default: the need, the support conditions and the candidate results (候选成果) of `PoolMatching.forDemand`.
        public var content: String?
        /// Default: the demand's industry chain.
        public var domain: String?
        /// Default: the demand's industry chain.
        public var industryChain: String?
        /// Default: the programme's.
        public var winners: Int?

        public init(
            programmeID: Int? = nil, applicationDeadline: Date? = nil, completionDeadline: String? = nil,
            fundingCeilingFen: Int64? = nil, category: String? = nil, indicators: [String]? = nil, title: String? = nil,
            task: String? = nil, content: String? = nil, domain: String? = nil, industryChain: String? = nil, winners: Int? = nil
        ) {
            self.programmeID = programmeID
            self.applicationDeadline = applicationDeadline
            self.completionDeadline = completionDeadline
            self.fundingCeilingFen = fundingCeilingFen
            self.category = category
            self.indicators = indicators
            self.title = title
            self.task = task
            self.content = content
            self.domain = domain
            self.industryChain = industryChain
            self.winners = winners
        }
    }

    /// The line that starts each candidate result in a draft's content.
    public static let candidatePrefix = "候选成果："
    /// The line that starts each candidate person (talent) in a draft's content.
    public static let talentPrefix = "候选人才："

    /// Why a challenge with candidate lines is not published: they name other units' results and people, which the
    /// matching shows only to the demand's readers.
    static let candidateLinesMessage =
        "remove the 候选成果 and 候选人才 lines before publishing: they name other units' results and people"

    /// Whether `content` still has a line that starts as a candidate result's or person's (the database refuses
    /// them in a published challenge too, `challenges_published_without_candidates`).
    static func hasCandidateLines(_ content: String) -> Bool {
        content.split(whereSeparator: \.isNewline).contains {
            let line = $0.drop { $0 == " " || $0 == "\t" }
            return line.hasPrefix(candidatePrefix) || line.hasPrefix(talentPrefix)
        }
    }

    /// Drafts a challenge from demand `id` in one step: its text from the demand, `demandIDs` = [id], and the
    /// demand's current best matches listed in its content as 候选成果 lines, so the bureau sees who could solve it.
    ///
    /// The actor must be able to read the demand (a missing or unreadable one is a 404, as `DemandFiling.demand`
    /// says) and draft challenges in the programme (`create`'s rules); only an open demand becomes a challenge.
    /// - Throws: `DomainError` (a missing field, the demand's or programme's refusal, a closed or lapsed demand).
    public static func create(
        fromDemand id: Int, _ draft: DemandDraft, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Challenge {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "draft a challenge")
        let demand = try await DemandFiling.demand(id: id, for: actor, on: tx)
        var checker = FieldChecker()
        let required: [(String, Bool)] = [
            ("programmeID", draft.programmeID == nil), ("applicationDeadline", draft.applicationDeadline == nil),
            ("completionDeadline", draft.completionDeadline == nil), ("fundingCeilingFen", draft.fundingCeilingFen == nil),
            ("category", draft.category == nil), ("indicators", draft.indicators == nil),
        ]
        for (field, missing) in required where missing { checker.add(field, "is required: a demand does not say it") }
        try checker.check()
        guard demand.status == "open" else {
            throw DomainError.invalid("demandIDs", "demand \(id) is \(demand.status); only an open demand becomes a challenge")
        }
        let candidates = try await PoolMatching.forDemand(id: id, for: actor, on: tx)
        let people = try await PoolMatching.talentsForDemand(id: id, for: actor, on: tx)
        let input = Input(
            title: draft.title ?? title(of: demand.need), task: draft.task ?? String(demand.need.prefix(2000)),
            content: draft.content ?? content(of: demand, candidates: candidates, people: people), indicators: draft.indicators!,
            category: draft.category!, domain: draft.domain ?? demand.industryChain,
            industryChain: draft.industryChain ?? demand.industryChain, applicationDeadline: draft.applicationDeadline!,
            completionDeadline: draft.completionDeadline!, fundingCeilingFen: draft.fundingCeilingFen!, winners: draft.winners,
            demandIDs: [id])
        return try await create(programmeID: draft.programmeID!, input, by: actor, on: tx)
    }

    /// A title from a need: its first line, cut at 40 characters.
    static func title(of need: String) -> String {
        let line = need.split(whereSeparator: \.isNewline).first.map(String.init) ?? need
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.count > 40 ? String(trimmed.prefix(39)) + "…" : trimmed
    }

    /// A draft's content from a demand: the need, the support conditions, one 候选成果 line per candidate result and
    /// one 候选人才 line per candidate person.
    static func content(
        of demand: DemandFiling.Demand, candidates: [PoolMatching.Suggestion], people: [PoolMatching.Suggestion] = []
    ) -> String {
        var lines = ["技术需求（需求编号 \(demand.id)）：\(demand.need)"]
        if !demand.supportConditions.isEmpty { lines.append("支持条件：\(demand.supportConditions)") }
        if candidates.isEmpty {
            lines.append("\(candidatePrefix)成果库中暂无匹配的成果")
        } else {
            for candidate in candidates {
                var facts = [candidate.unitName]
                if let maturity = candidate.maturity { facts.append("技术成熟度\(maturity)") }
                facts.append("匹配度\(Int((candidate.score * 100).rounded()))%")
                facts += candidate.reasons
                lines.append("\(candidatePrefix)\(candidate.title)（成果编号 \(candidate.id)；\(facts.joined(separator: "；"))）")
            }
        }
        for person in people {
            let facts = [person.unitName, "匹配度\(Int((person.score * 100).rounded()))%"] + person.reasons
            lines.append("\(talentPrefix)\(person.title)（人才编号 \(person.id)；\(facts.joined(separator: "；"))）")
        }
        return lines.joined(separator: "\n")
    }
}

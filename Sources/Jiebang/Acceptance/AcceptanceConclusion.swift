/// What an acceptance concludes (验收结论): 通过, 整改后通过 or 不通过, from least to most severe.
///
/// The panel's conclusion is the median of the experts' verdicts (the more severe of the two middle
/// ones for an even panel), so one lenient or one harsh expert does not decide alone. The acceptance
/// passes only when the panel passes it and the finances pass; otherwise the first attempt may be
/// rectified once (within three months), and the second attempt either passes or fails.
public enum AcceptanceConclusion: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// 通过.
    case pass
    /// 整改后通过: one more attempt after rectification.
    case rectify
    /// 不通过.
    case fail

    private var severity: Int {
        switch self {
        case .pass: 0
        case .rectify: 1
        case .fail: 2
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.severity < rhs.severity }

    /// The panel's conclusion from its experts' verdicts; nil for no verdicts.
    public static func ofPanel(_ verdicts: [AcceptanceConclusion]) -> AcceptanceConclusion? {
        guard !verdicts.isEmpty else { return nil }
        return verdicts.sorted()[verdicts.count / 2]
    }

    /// The acceptance's conclusion from the panel's and the financial acceptance, on attempt `attempt` (1 or 2).
    public static func overall(task: AcceptanceConclusion, financialPassed: Bool, attempt: Int) -> AcceptanceConclusion {
        if task == .fail { return .fail }
        if task == .pass && financialPassed { return .pass }
        return attempt == 1 ? .rectify : .fail
    }

    /// Why an expert's verdict must be 不通过, or nil when any conclusion is allowed: a contracted
    /// indicator not met, untrue data, or targets changed without approval.
    public static func reasonToFail(indicatorsMet: [Bool], dataTrue: Bool, targetsKept: Bool) -> String? {
        if let index = indicatorsMet.firstIndex(of: false) { return "indicator \(index + 1) is not met" }
        if !dataTrue { return "the data are found untrue" }
        if !targetsKept { return "targets were changed without approval" }
        return nil
    }
}

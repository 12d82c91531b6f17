import Foundation
import Jiebang

/// The domain's refusals in plain Chinese, for people on the pages: each field named as its form names it,
/// each rule said as a sentence. The API keeps the English messages (with the field's JSON name); a message
/// this table does not know is shown in English after the field's Chinese name, never dropped.
enum PageMessages {
    /// One issue as a sentence: `技术路线：须为 10 至 20000 字，现有 4 字`.
    /// - Parameter fields: names a page gives to fields of its own (a score sheet's `items[0].score` as the
    ///   criterion's name), before the common ones.
    static func chinese(_ issue: FieldIssue, fields: [String: String] = [:]) -> String {
        "\(fields[issue.field] ?? fieldName(issue.field))：\(sentence(issue.message))"
    }

    /// Every issue of a refusal, or its one sentence.
    static func chinese(_ error: DomainError, fields: [String: String] = [:]) -> [String] {
        switch error {
        case .invalid(let issues): issues.map { chinese($0, fields: fields) }
        case .notFound: ["要处理的内容不存在或不在您的权限范围内"]
        case .forbidden: ["您无权进行此操作"]
        case .conflict(let field, let message):
            [field.map { chinese(FieldIssue(field: $0, message: message), fields: fields) } ?? sentence(message)]
        case .stale: ["内容已被他人修改，请刷新页面后再操作"]
        case .revisionRequired: ["请刷新页面后再操作"]
        }
    }

    /// A refusal in one line, its sentences joined with 「；」 and ended with 「。」.
    static func line(_ error: DomainError, fields: [String: String] = [:]) -> String {
        chinese(error, fields: fields).joined(separator: "；") + "。"
    }

    /// The name a form gives to an API field, `indicatorAnswers[1]` as 「第 2 项指标响应」.
    static func fieldName(_ field: String) -> String {
        if let (base, index, rest) = indexed(field) {
            switch base {
            case "indicatorAnswers": return "第 \(index + 1) 项指标响应"
            case "team":
                let part =
                    switch rest {
                    case ".name": "姓名"
                    case ".title": "职称"
                    case ".unit": "单位"
                    case ".role": "分工"
                    default: rest
                    }
                return "团队第 \(index + 1) 人的\(part)"
            default: return field
            }
        }
        return names[field] ?? field
    }

    static let names: [String: String] = [
        "technicalRoute": "技术路线",
        "rdFoundation": "研发基础",
        "indicatorAnswers": "指标响应",
        "totalInvestmentFen": "项目总投资",
        "selfFundingFen": "自筹资金",
        "requestedFundingFen": "申请支持资金",
        "team": "项目团队",
        "completionCommitment": "完成承诺",
        "members": "联合体",
        "status": "申报状态",
        "challengeID": "榜单",
        "unitID": "合作单位",
        "unit": "本单位",
        "creditCode": "统一社会信用代码",
        "part": "承担部分",
        "partRole": "承担角色",
        "tasks": "承担任务",
        "budgetShareFen": "经费份额",
        "contribution": "投入条件",
        "filename": "文件名",
        "Content-Type": "文件类型",
        "body": "文件",
        "file": "文件",
        "reason": "理由",
        "opinion": "意见",
        "decision": "推荐意见",
        "round": "评审轮次",
        "scoringDeadline": "评分截止时间",
        "quota": "推荐名额",
    ]

    /// `team[2].name` as (`team`, 2, `.name`).
    private static func indexed(_ field: String) -> (String, Int, String)? {
        guard let open = field.firstIndex(of: "["), let close = field[open...].firstIndex(of: "]"),
            let index = Int(field[field.index(after: open)..<close])
        else { return nil }
        return (String(field[..<open]), index, String(field[field.index(after: close)...]))
    }

    /// The rule's sentence in Chinese, matched against the domain's English wording.
    static func sentence(_ message: String) -> String {
        for (pattern, render) in patterns {
            if let match = message.wholeMatch(of: pattern) {
                return render(match.output.dropFirst().compactMap { $0.substring.map(String.init) })
            }
        }
        return message
    }

    private nonisolated(unsafe) static let patterns: [(Regex<AnyRegexOutput>, @Sendable ([String]) -> String)] = [
        (try! Regex("is required"), { _ in "必须填写" }),
        (try! Regex(#"must have (\d+) to (\d+) characters, not (\d+)"#), { "须为 \($0[0]) 至 \($0[1]) 字，现有 \($0[2]) 字" }),
        (try! Regex(#"must have at most (\d+) characters, not (\d+)"#), { "最多 \($0[0]) 字，现有 \($0[1]) 字" }),
        (try! Regex(#"must not contain the control character (U\+[0-9A-F]+)"#), { "含有不允许的控制字符（\($0[0])）" }),
        (try! Regex(#"must be one line, without tabs or line breaks \((U\+[0-9A-F]+)\)"#), { _ in "须为一行，不能含制表符或换行" }),
        (try! Regex(#"must answer each of the challenge's (\d+) indicators, not (\d+)"#), { "须逐项响应榜单的 \($0[0]) 项考核指标，现有 \($0[1]) 项" }),
        (try! Regex("must be positive"), { _ in "须大于零" }),
        (try! Regex(#"demand (\d+) is closed; file a new one instead"#), { "需求 \($0[0]) 已关闭，如仍有需求请重新填报" }),
        (try! Regex("the demand is closed; file a new one instead"), { _ in "需求已关闭，如仍有需求请重新填报" }),
        (try! Regex("must be more than 0"), { _ in "须大于零" }),
        (try! Regex("must not be negative"), { _ in "不能为负数" }),
        (try! Regex("must name at least one person"), { _ in "至少填写一名成员" }),
        (try! Regex(#"must have at most (\d+) people"#), { "最多 \($0[0]) 人" }),
        (try! Regex(#"must have at most (\d+) answers"#), { "最多 \($0[0]) 项" }),
        (
            try! Regex("the lead must commit to finish by the challenge's completion deadline"),
            { _ in "牵头单位须承诺在榜单的时限要求内完成攻关" }
        ),
        (try! Regex("self-funding plus requested funding must not exceed the total investment"), { _ in "自筹资金与申请支持资金之和不能超过项目总投资" }),
        (try! Regex("the total investment must be more than 0"), { _ in "项目总投资须大于零" }),
        (try! Regex(#"(.+) is more than the programme allows for this project \((.+)\)"#), { "\($0[0]) 超过本批次对该项目的支持上限（\($0[1])）" }),
        (try! Regex(#"(.+) is more than the challenge's funding ceiling \((.+)\)"#), { "\($0[0]) 超过榜单的支持资金上限（\($0[1])）" }),
        (
            try! Regex(#"the consortium needs at least (\d+) accepted partner\(s\); it has (\d+)"#),
            { "联合体至少需要 \($0[0]) 家已接受邀请的合作单位，现有 \($0[1]) 家" }
        ),
        (try! Regex(#"the consortium may have at most (\d+) units; it has (\d+)"#), { "联合体最多 \($0[0]) 家单位，现有 \($0[1]) 家" }),
        (
            try! Regex(#"unit \d+ \((.+)\) is already in live bid (\d+) of this programme; each unit may apply for one challenge only"#),
            { "「\($0[0])」已在本批次的第 \($0[1]) 号申报中；同一批次每家单位只能揭一个榜" }
        ),
        (try! Regex(#"a (\w+) bid cannot be (\w+)"#), { "\(bidStatus($0[0]))的申报不能\(action($0[1]))" }),
        (try! Regex(#"a (\w+) bid cannot be edited"#), { "\(bidStatus($0[0]))的申报不能修改" }),
        (try! Regex(#"the consortium of a (\w+) bid is fixed"#), { "\(bidStatus($0[0]))的申报不能再调整联合体" }),
        (try! Regex(#"a (\w+) bid takes no new attachments"#), { "\(bidStatus($0[0]))的申报不能再上传附件" }),
        (try! Regex(#"unit \d+ is already in this consortium"#), { _ in "该单位已在联合体中" }),
        (try! Regex(#"challenge \d+ is (\w+), not open for bids"#), { _ in "该榜单不在征集期内，不能申报" }),
        (try! Regex(#"the application deadline of challenge \d+ has passed"#), { _ in "该榜单的申报截止时间已过" }),
        (try! Regex("must have 1 to 200 characters and no slashes"), { _ in "须为 1 至 200 个字符，且不含斜杠" }),
        (try! Regex(#"must be application/pdf.*"#), { _ in "只接受 PDF 文件" }),
        (
            try! Regex(#"must have 1 byte to (\d+) bytes, not (\d+)"#),
            { "须为 1 字节至 \(Int($0[0]).map { "\($0 / 1_048_576) MiB" } ?? $0[0])，现为 \($0[1]) 字节" }
        ),
        (try! Regex(#"is not a PDF file.*"#), { _ in "不是 PDF 文件（文件不以 %PDF- 开头）" }),
        (try! Regex("is required to accept"), { _ in "接受邀请须填写承担部分" }),
        (try! Regex(#"the round is (\w+): scoring is not open"#), { _ in "评审轮次未开放评分" }),
        (try! Regex("the scoring deadline has passed"), { _ in "评分截止时间已过" }),
        (try! Regex("a submitted score is locked"), { _ in "评分已提交并锁定，不能再修改" }),
        (try! Regex(#"(.+) is scored twice"#), { _ in "重复评分" }),
        (try! Regex(#"review round \d+ is closed"#), { _ in "评审轮次已结束" }),
        (try! Regex(#"you already recused from assignment \d+"#), { _ in "您已申请回避此评审任务" }),
        (try! Regex("the window has closed: the bid can no longer be returned"), { _ in "推荐期已过，不能再退回修改" }),
        (try! Regex(#"your region's quota of (\d+) recommendations is used"#), { "本地区的 \($0[0]) 项推荐名额已用完" }),
        (try! Regex(#"must be between (\S+) and (\S+), not (\S+)"#), { "须在 \($0[0]) 至 \($0[1]) 之间，现为 \($0[2])" }),
        (
            try! Regex(#"unit \d+ is waiting for verification by its municipal bureau, so it cannot bid yet"#),
            { _ in "尚待所在市州工信部门核实（请上传营业执照），核实后方可申报" }
        ),
        (
            try! Regex(#"unit \d+ is refused verification by its municipal bureau, so it cannot bid yet"#),
            { _ in "未通过所在市州工信部门的核实，不能申报" }
        ),
        (
            try! Regex("the unit is not verified by its municipal bureau, so it cannot bid yet"),
            { _ in "尚未通过所在市州工信部门的核实，不能申报" }
        ),
    ]

    /// A bid status from the domain's English name.
    private static func bidStatus(_ raw: String) -> String {
        BidStatus(rawValue: raw).map(BureauPageController.statusName) ?? raw
    }

    private static func action(_ pastTense: String) -> String {
        switch pastTense {
        case "submitted": "提交"
        case "recommended": "推荐"
        case "returned": "退回"
        case "declined": "不予推荐"
        case "withdrawn": "撤回"
        default: "处理"
        }
    }
}

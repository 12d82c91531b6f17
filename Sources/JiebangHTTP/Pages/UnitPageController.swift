import Foundation
import Hummingbird
import Jiebang
import Postgres

/// The unit's workspace: its bids and invitations (`/unit`), drafting a bid from a challenge's page, a bid's
/// page (`/unit/bids/:id`) where the lead edits the content, invites partners by their credit code, uploads
/// PDFs, sees in Chinese which rule still blocks submission, submits (and gets the receipt: version and
/// SHA-256) or withdraws, and where an invited partner's admin accepts with its part or declines. It calls the
/// same domain as the API (`BidStore`, `BidAttachments`, `UnitStore`): a bid the unit is not in is a
/// not-found page.
struct UnitPageController {
    let database: PostgresClient
    let renderer: PageRenderer

    init(database: PostgresClient, renderer: PageRenderer = .shared) {
        self.database = database
        self.renderer = renderer
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("unit", use: workspace)
        router.post("unit/bids", use: draft)
        router.post("unit/licence", use: uploadLicence)
        router.post("unit/demands/:id/confirm", use: confirmDemand)
        router.post("unit/demands/:id/close", use: closeDemand)
        router.get("unit/bids/:id", use: bid)
        router.post("unit/bids/:id/content", use: saveContent)
        router.post("unit/bids/:id/members", use: invite)
        router.post("unit/bids/:id/response", use: respond)
        router.post("unit/bids/:id/attachments", use: attach)
        router.get("unit/bids/:id/attachments/:attachmentID", use: attachment)
        router.post("unit/bids/:id/submit", use: submit)
        router.post("unit/bids/:id/withdraw", use: withdraw)
    }

    static let roles: Set<Role> = [.unitAdmin, .unitMember]

    /// The signed-in person of a unit, or the answer that sends anyone else away.
    static func unitPerson(_ request: Request, _ context: AppRequestContext) throws -> Actor {
        try PageAccess.require(roles, request, context, refusal: "单位工作台仅供申报单位的用户使用。")
    }

    static func notFound(_ id: Int) -> Problem { Problem(status: .notFound, detail: "没有编号为 \(id) 的申报。") }

    static func memberStatus(_ status: String) -> String {
        switch status {
        case "accepted": "已接受"
        case "invited": "待答复"
        case "declined": "已谢绝"
        default: status
        }
    }

    // MARK: The workspace

    struct BidRow: Sendable {
        var id: Int
        var challengeTitle: String
        var role: String
        var status: String
        var version: Int
        var updatedAt: String
        var awaitingAnswer: Bool
    }

    /// One of the unit's demands, with its half-yearly refresh (需求库每半年更新).
    struct DemandRow: Sendable {
        var id: Int
        var industryChain: String
        var need: String
        var status: String
        var refreshDueAt: String
        /// Open or lapsed: it may be confirmed or closed.
        var actionable: Bool
        /// Open, and lapsing within thirty days.
        var dueSoon: Bool
        /// The best three results and three people the matching suggests (an open demand's only).
        var suggestions: [String] = []
        var hasSuggestions = false
    }

    /// The open demands whose suggestions the workspace shows.
    static let demandsWithSuggestions = 20

    struct WorkspaceView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var unitName: String
        var unread: Int
        var bids: [BidRow]
        var hasBids: Bool
        var demands: [DemandRow] = []
        var hasDemands = false
        var invitations: [BidRow]
        var hasInvitations: Bool
        var notice: String?
        /// Set while the unit is not verified: what it must do, and its licence so far.
        var verification: VerificationView?
        var csrf: String
        var errors: [String] = []
        var hasErrors = false
    }

    /// A unit's verification, shown on its workspace until its bureau has verified it.
    struct VerificationView: Sendable {
        var pending: Bool
        var note: String?
        var licence: String?
        var isAdmin: Bool
    }

    @Sendable func workspace(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await workspacePage(request, context: context, errors: [], status: .ok)
    }

    func workspacePage(
        _ request: Request, context: AppRequestContext, errors: [String], status: HTTPResponse.Status
    ) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let (bids, unread, unit, licence, demands, suggestions) = try await database.withConnection { db in
            let bids = try await BidStore.list(
                programmeID: nil, challengeID: nil, status: nil, beforeID: nil, limit: 200, for: actor, on: db)
            let demands = try await DemandFiling.list(programmeID: nil, beforeID: nil, limit: 200, for: actor, on: db)
            var suggestions: [Int: [String]] = [:]
            for demand in demands.filter({ $0.status == "open" }).prefix(Self.demandsWithSuggestions) {
                let results = try await PoolMatching.forDemand(id: demand.id, for: actor, on: db).prefix(3)
                let people = try await PoolMatching.talentsForDemand(id: demand.id, for: actor, on: db).prefix(3)
                suggestions[demand.id] =
                    results.map { "成果：\($0.title)（\($0.unitName)，匹配度\(Int(($0.score * 100).rounded()))%）" }
                    + people.map { "人才：\($0.title)（\($0.unitName)，匹配度\(Int(($0.score * 100).rounded()))%）" }
            }
            let unread = try await NotificationStore.unreadCount(for: actor.userID, on: db)
            var unit: UnitStore.Unit?
            var licence: UnitVerification.Licence?
            if let unitID = actor.unitID {
                unit = try await UnitStore.unit(id: unitID, for: actor, on: db)
                if unit?.verification != "verified" {
                    // No licence yet is the usual case; any other failure (the database away) is the page's.
                    do {
                        licence = try await UnitVerification.licence(unitID: unitID, for: actor, on: db).0
                    } catch DomainError.notFound {
                        licence = nil
                    }
                }
            }
            return (bids, unread, unit, licence, demands, suggestions)
        }
        let rows = bids.map { bid in
            let mine = bid.members.first { $0.unitID == actor.unitID }
            return BidRow(
                id: bid.id, challengeTitle: bid.challengeTitle, role: bid.leadUnitID == actor.unitID ? "牵头单位" : "合作单位",
                status: BureauPageController.statusName(bid.status), version: bid.version, updatedAt: PageFormat.dateTime(bid.updatedAt),
                awaitingAnswer: mine?.role == "partner" && mine?.status == "invited" && bid.status.isEditable)
        }
        let invitations = rows.filter { $0.awaitingAnswer }
        let notice: String? =
            switch request.uri.queryParameters["done"] {
            case "withdrawn": "申报已撤回，联合体各单位可另行申报本批次的其他榜单。"
            case "licence": "营业执照已上传，请等待所在市州工信部门核实。"
            case "demand-confirmed": "需求已确认，有效期自今日起顺延半年。"
            case "demand-closed": "需求已关闭。"
            default: nil
            }
        let verification = unit.flatMap { unit -> VerificationView? in
            guard unit.verification != "verified" else { return nil }
            return VerificationView(
                pending: unit.verification == "pending", note: unit.decisionNote,
                licence: licence.map {
                    "\($0.filename)（\(max(1, ($0.sizeBytes + 1023) / 1024)) KiB，上传于 \(PageFormat.dateTime($0.uploadedAt))）"
                },
                isAdmin: actor.role == .unitAdmin)
        }
        let now = Date()
        let demandRows = demands.map { demand in
            DemandRow(
                id: demand.id, industryChain: demand.industryChain,
                need: demand.need.count > 60 ? String(demand.need.prefix(60)) + "…" : demand.need,
                status: ["open": "有效", "lapsed": "已失效（半年未确认）", "closed": "已关闭"][demand.status] ?? demand.status,
                refreshDueAt: demand.status == "open" ? PageFormat.dateTime(demand.refreshDueAt) : "—",
                actionable: demand.status != "closed",
                dueSoon: demand.status == "open" && demand.refreshDueAt.timeIntervalSince(now) < 30 * 86_400,
                suggestions: suggestions[demand.id] ?? [], hasSuggestions: !(suggestions[demand.id] ?? []).isEmpty)
        }
        var view = WorkspaceView(
            unitName: unit?.name ?? "", unread: unread, bids: rows, hasBids: !rows.isEmpty, invitations: invitations,
            hasInvitations: !invitations.isEmpty, notice: notice, verification: verification,
            csrf: context.token.map(PageSession.csrf) ?? "", errors: errors, hasErrors: !errors.isEmpty)
        view.demands = demandRows
        view.hasDemands = !demandRows.isEmpty
        return renderer.response("unit", view, context: context, status: status)
    }

    /// The half-yearly refresh from the workspace: the demand still stands.
    @Sendable func confirmDemand(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await refreshDemand(request, context: context, done: "demand-confirmed") { id, actor, tx in
            _ = try await DemandRefresh.confirm(id: id, by: actor, on: tx)
        }
    }

    /// Closes a demand for good, once the form's 「确认关闭」 is ticked.
    @Sendable func closeDemand(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await refreshDemand(request, context: context, done: "demand-closed", requiresTick: true) { id, actor, tx in
            _ = try await DemandRefresh.close(id: id, by: actor, on: tx)
        }
    }

    private func refreshDemand(
        _ request: Request, context: AppRequestContext, done: String, requiresTick: Bool = false,
        _ action: @Sendable @escaping (Int, Actor, PostgresConnection) async throws -> Void
    ) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        if requiresTick && form["confirm"] != "yes" {
            return try await workspacePage(request, context: context, errors: ["关闭需求须勾选「确认关闭」"], status: .unprocessableContent)
        }
        do {
            try await database.withTransaction { try await action(id, actor, $0) }
        } catch DomainError.notFound {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的需求。")
        } catch let error as DomainError {
            return try await workspacePage(
                request, context: context, errors: PageMessages.chinese(error, fields: ["status": "需求状态"]), status: Problem(error).status)
        }
        return .redirect(to: "/unit?done=\(done)", type: .normal)
    }

    /// The unit's admin uploads its business licence (营业执照) for its bureau to verify the unit against.
    @Sendable func uploadLicence(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let upload = try await PageUpload.read(request)
        guard let expected = context.token.map(PageSession.csrf), PageSession.matches(upload[PageSession.csrfField], expected) else {
            throw Problem(status: .forbidden, detail: "表单已失效或来源不明，请刷新页面后重新提交。")
        }
        guard let unitID = actor.unitID else { throw Problem(status: .forbidden, detail: "您不属于任何单位。") }
        guard let file = upload.files["file"], !file.filename.isEmpty else {
            return try await workspacePage(request, context: context, errors: ["文件：请选择营业执照的 PDF 文件"], status: .unprocessableContent)
        }
        do {
            _ = try await database.withTransaction {
                try await UnitVerification.uploadLicence(
                    unitID: unitID, filename: file.filename, contentType: file.contentType, bytes: file.bytes, by: actor, on: $0)
            }
        } catch let error as DomainError {
            return try await workspacePage(
                request, context: context, errors: PageMessages.chinese(error), status: Problem(error).status)
        }
        return .redirect(to: "/unit?done=licence", type: .normal)
    }

    @Sendable func draft(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        guard let challengeID = form["challengeID"].flatMap({ Int($0) }), challengeID > 0 else {
            throw Problem(status: .unprocessableContent, detail: "请从榜单页面发起申报。")
        }
        let empty = BidContent(
            technicalRoute: "", rdFoundation: "", indicatorAnswers: [], totalInvestmentFen: 0, selfFundingFen: 0,
            requestedFundingFen: 0, team: [], completionCommitment: false)
        let bid: BidStore.Bid
        do {
            bid = try await database.withTransaction { try await BidStore.create(challengeID: challengeID, empty, by: actor, on: $0) }
        } catch let error as DomainError {
            throw Problem(status: Problem(error).status, detail: "未能起草申报：\(PageMessages.line(error))")
        }
        return .redirect(to: "/unit/bids/\(bid.id)?done=drafted", type: .normal)
    }

    // MARK: A bid

    struct MemberRow: Sendable {
        var unitName: String
        var role: String
        var status: String
        /// The partner's role and tasks, `角色：任务`.
        var part: String
        var budget: PageFormat.Money
    }

    struct AnswerField: Sendable {
        var index: Int
        var number: Int
        var indicator: String
        var answer: String
    }

    struct FileRow: Sendable {
        var link: String
        var filename: String
        var size: String
        var sha256: String
        var uploadedAt: String
    }

    struct ReceiptRow: Sendable {
        var version: Int
        var submittedAt: String
        var sha256: String
    }

    /// The content form's text, from the bid or as posted.
    struct ContentForm: Sendable {
        var technicalRoute: String
        var rdFoundation: String
        var answers: [String]
        var total: String
        var selfFunding: String
        var requested: String
        var team: String
        var commitment: Bool

        init(_ content: BidContent) {
            technicalRoute = content.technicalRoute
            rdFoundation = content.rdFoundation
            answers = content.indicatorAnswers
            total = content.totalInvestmentFen == 0 ? "" : PageFormat.wanInput(fen: content.totalInvestmentFen)
            selfFunding = content.selfFundingFen == 0 ? "" : PageFormat.wanInput(fen: content.selfFundingFen)
            requested = content.requestedFundingFen == 0 ? "" : PageFormat.wanInput(fen: content.requestedFundingFen)
            team = content.team.map { [$0.name, $0.title, $0.unit, $0.role].joined(separator: "，") }.joined(separator: "\n")
            commitment = content.completionCommitment
        }

        init(_ form: PageForm, indicators: Int) {
            technicalRoute = form["technicalRoute"] ?? ""
            rdFoundation = form["rdFoundation"] ?? ""
            answers = (0..<indicators).map { form["answer.\($0)"] ?? "" }
            total = form["total"] ?? ""
            selfFunding = form["selfFunding"] ?? ""
            requested = form["requested"] ?? ""
            team = form["team"] ?? ""
            commitment = form["commitment"] == "yes"
        }

        /// The content, or the problems of the form's own fields (amounts and the team's lines) in Chinese.
        func content() -> Result<BidContent, Problems> {
            var problems: [String] = []
            func fen(_ text: String, _ name: String) -> Int64 {
                if text.trimmingCharacters(in: .whitespaces).isEmpty { return 0 }
                guard let fen = PageFormat.fen(wan: text) else {
                    problems.append("\(name)：应为以万元计的数字，最多六位小数（例如 3000 或 12.5）")
                    return 0
                }
                return fen
            }
            let total = fen(total, "项目总投资")
            let selfFunding = fen(selfFunding, "自筹资金")
            let requested = fen(requested, "申请支持资金")
            var members: [BidContent.TeamMember] = []
            for (number, line) in team.split(whereSeparator: \.isNewline).enumerated() {
                let fields = line.split(omittingEmptySubsequences: false) { "，,\t".contains($0) }
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                if fields.allSatisfy(\.isEmpty) { continue }
                guard fields.count <= 4 else {
                    problems.append("项目团队第 \(number + 1) 行：应为「姓名，职称，单位，分工」四项，用逗号分隔")
                    continue
                }
                let padded = fields + Array(repeating: "", count: 4 - fields.count)
                members.append(.init(name: padded[0], title: padded[1], unit: padded[2], role: padded[3]))
            }
            guard problems.isEmpty else { return .failure(Problems(lines: problems)) }
            return .success(
                BidContent(
                    technicalRoute: technicalRoute, rdFoundation: rdFoundation, indicatorAnswers: answers, totalInvestmentFen: total,
                    selfFundingFen: selfFunding, requestedFundingFen: requested, team: members, completionCommitment: commitment))
        }
    }

    /// Problems found in a form before the domain saw it, each a Chinese sentence.
    struct Problems: Error {
        var lines: [String]
    }

    struct BidView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var id: Int
        var revision: Int
        var challengeID: Int
        var challengeTitle: String
        var deadline: String
        var ceiling: PageFormat.Money
        var leadUnitName: String
        var status: String
        var version: Int
        var isLead: Bool
        var editable: Bool
        var form: ContentForm
        var answerFields: [AnswerField]
        var technicalRoute: String
        var rdFoundation: String
        var indicatorAnswers: [String]
        var total: PageFormat.Money
        var selfFunding: PageFormat.Money
        var requested: PageFormat.Money
        var team: [BidContent.TeamMember]
        var members: [MemberRow]
        var files: [FileRow]
        var hasFiles: Bool
        var blockers: [String]
        var hasBlockers: Bool
        var maySubmit: Bool
        var showSubmission: Bool
        var receipts: [ReceiptRow]
        var hasReceipts: Bool
        var mayWithdraw: Bool
        var answering: Bool
        var answeringAsMember: Bool
        var partRole: String
        var tasks: String
        var budget: String
        var contribution: String
        var notice: String?
        var errors: [String]
        var hasErrors: Bool
        var csrf: String
    }

    /// What the page shows after an action, or when an action failed: the posted values stay in their fields.
    struct Outcome {
        var notice: String?
        var errors: [String] = []
        var content: ContentForm?
        var answer: PageForm?
        var status: HTTPResponse.Status = .ok
    }

    /// The page of bid `id` as `actor` sees it.
    /// - Throws: a 404 problem when the actor's unit is not in the bid.
    func bidPage(_ id: Int, actor: Actor, context: AppRequestContext, outcome: Outcome = Outcome()) async throws -> Response {
        let loaded = try await database.withConnection { db in
            do {
                let bid = try await BidStore.bid(id: id, for: actor, on: db)
                let files = try await BidAttachments.list(bidID: id, for: actor, on: db)
                let receipts = try await BidStore.receipts(id: id, for: actor, on: db)
                let blockers = try await BidStore.blockers(id: id, for: actor, on: db)
                let challenge = try await ChallengeStore.publicChallenge(id: bid.challengeID, on: db)
                return (bid, files, receipts, blockers, challenge)
            } catch DomainError.notFound, DomainError.forbidden {
                throw Self.notFound(id)
            }
        }
        let (bid, files, receipts, blockers, challenge) = loaded
        let isLead = bid.leadUnitID == actor.unitID
        let mine = bid.members.first { $0.unitID == actor.unitID }
        let indicators = challenge?.indicators ?? []
        let form = outcome.content ?? ContentForm(bid.content)
        let answering = !isLead && mine?.status == "invited" && bid.status.isEditable
        let lead = bid.members.first { $0.role == "lead" }
        let view = BidView(
            id: bid.id, revision: bid.revision, challengeID: bid.challengeID, challengeTitle: bid.challengeTitle,
            deadline: challenge.map { PageFormat.dateTime($0.applicationDeadline) } ?? "",
            ceiling: PageFormat.money(fen: challenge?.fundingCeilingFen ?? 0), leadUnitName: lead?.unitName ?? "",
            status: BureauPageController.statusName(bid.status), version: bid.version, isLead: isLead,
            editable: isLead && bid.status.isEditable, form: form,
            answerFields: indicators.enumerated().map { index, indicator in
                AnswerField(
                    index: index, number: index + 1, indicator: indicator, answer: index < form.answers.count ? form.answers[index] : "")
            },
            technicalRoute: bid.content.technicalRoute, rdFoundation: bid.content.rdFoundation,
            indicatorAnswers: bid.content.indicatorAnswers, total: PageFormat.money(fen: bid.content.totalInvestmentFen),
            selfFunding: PageFormat.money(fen: bid.content.selfFundingFen),
            requested: PageFormat.money(fen: bid.content.requestedFundingFen), team: bid.content.team,
            members: bid.members.map {
                MemberRow(
                    unitName: $0.unitName, role: $0.role == "lead" ? "牵头单位" : "合作单位", status: Self.memberStatus($0.status),
                    part: [$0.partRole, $0.tasks].filter { !$0.isEmpty }.joined(separator: "："),
                    budget: PageFormat.money(fen: $0.budgetShareFen))
            },
            files: files.map {
                FileRow(
                    link: "/unit/bids/\(id)/attachments/\($0.id)", filename: $0.filename,
                    size: "\(max(1, ($0.sizeBytes + 1023) / 1024)) KiB", sha256: $0.sha256, uploadedAt: PageFormat.dateTime($0.uploadedAt))
            },
            hasFiles: !files.isEmpty, blockers: blockers.map { PageMessages.chinese($0) }, hasBlockers: !blockers.isEmpty,
            // A submitted bid is not edited (unless returned), so submitting it again would only repeat the version.
            maySubmit: isLead && blockers.isEmpty && bid.status != .submitted, showSubmission: isLead && bid.status.isEditable,
            receipts: receipts.reversed().map {
                ReceiptRow(version: $0.version, submittedAt: PageFormat.dateTime($0.submittedAt), sha256: $0.sha256)
            },
            hasReceipts: !receipts.isEmpty,
            mayWithdraw: isLead && (try? bid.status.applying(.withdraw)) != nil,
            answering: answering && actor.role == .unitAdmin, answeringAsMember: answering && actor.role != .unitAdmin,
            partRole: outcome.answer?["partRole"] ?? "", tasks: outcome.answer?["tasks"] ?? "",
            budget: outcome.answer?["budget"] ?? "", contribution: outcome.answer?["contribution"] ?? "",
            notice: outcome.notice, errors: outcome.errors, hasErrors: !outcome.errors.isEmpty,
            csrf: context.token.map(PageSession.csrf) ?? "")
        return renderer.response("bid", view, context: context, status: outcome.status)
    }

    @Sendable func bid(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let id = try PublicPageController.pathID(context)
        let notice: String? =
            switch request.uri.queryParameters["done"] {
            case "drafted": "申报草稿已建立。填写申报内容、邀请合作单位并上传附件后即可提交。"
            case "saved": "申报内容已保存。"
            case "invited": "邀请已发出，对方单位管理员将在消息中收到通知。"
            case "accepted": "已接受邀请，本单位承担的部分已记录。"
            case "declined": "已谢绝邀请。"
            case "attached": "附件已上传。"
            case "submitted": "申报已提交，回执见下方。"
            default: nil
            }
        return try await bidPage(id, actor: actor, context: context, outcome: Outcome(notice: notice))
    }

    /// Runs a domain action on bid `id`; a refusal shows the bid's page again with the reasons in Chinese.
    func act(
        _ id: Int, actor: Actor, context: AppRequestContext, failing outcome: Outcome = Outcome(), done: String,
        _ action: @Sendable @escaping (PostgresConnection) async throws -> Void
    ) async throws -> Response {
        do {
            try await database.withTransaction { try await action($0) }
        } catch DomainError.notFound {
            throw Self.notFound(id)
        } catch let error as DomainError {
            // A refusal shows the bid's page again, which is itself a not-found page to anyone outside the bid.
            var outcome = outcome
            outcome.errors = PageMessages.chinese(error)
            outcome.status = Problem(error).status
            return try await bidPage(id, actor: actor, context: context, outcome: outcome)
        }
        return .redirect(to: "/unit/bids/\(id)?done=\(done)", type: .normal)
    }

    @Sendable func saveContent(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        let answers = min(max(form.fields.keys.filter { $0.hasPrefix("answer.") }.count, 0), 50)
        let entered = ContentForm(form, indicators: answers)
        guard let revision = form["revision"].flatMap({ Int($0) }) else {
            throw Problem(status: .unprocessableContent, detail: "表单缺少版本号，请刷新页面后重新填写。")
        }
        switch entered.content() {
        case .failure(let problems):
            return try await bidPage(
                id, actor: actor, context: context,
                outcome: Outcome(errors: problems.lines, content: entered, status: .unprocessableContent))
        case .success(let content):
            return try await act(id, actor: actor, context: context, failing: Outcome(content: entered), done: "saved") {
                _ = try await BidStore.update(id: id, content, ifRevision: revision, by: actor, on: $0)
            }
        }
    }

    @Sendable func invite(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        let code: CreditCode
        do {
            code = try CreditCode(form["creditCode"] ?? "")
        } catch {
            return try await bidPage(
                id, actor: actor, context: context,
                outcome: Outcome(errors: ["统一社会信用代码：\(Self.creditCodeProblem(error))"], status: .unprocessableContent))
        }
        guard let unit = try await database.withConnection({ try await UnitStore.unit(creditCode: code, on: $0) }) else {
            return try await bidPage(
                id, actor: actor, context: context,
                outcome: Outcome(errors: ["统一社会信用代码：没有以 \(code.value) 登记的单位，请对方先在本系统注册"], status: .unprocessableContent))
        }
        return try await act(id, actor: actor, context: context, done: "invited") {
            _ = try await BidStore.invite(id: id, unitID: unit.id, by: actor, on: $0)
        }
    }

    static func creditCodeProblem(_ problem: CreditCode.Problem) -> String {
        switch problem {
        case .wrongLength(let count): "应为 18 位，现为 \(count) 位"
        case .invalidCharacter(let character, let position): "第 \(position) 位「\(character)」不是允许的字符（数字及除 I、O、Z、S、V 外的大写字母）"
        case .wrongCheckCharacter: "校验位不符，请核对是否输错"
        }
    }

    @Sendable func respond(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        guard let unitID = actor.unitID else { throw Self.notFound(id) }
        let accept = form["decision"] == "accept"
        var part: BidStore.Part?
        if accept {
            let budget = (form["budget"] ?? "").trimmingCharacters(in: .whitespaces)
            guard let fen = budget.isEmpty ? 0 : PageFormat.fen(wan: budget) else {
                return try await bidPage(
                    id, actor: actor, context: context,
                    outcome: Outcome(errors: ["经费份额：应为以万元计的数字，最多六位小数"], answer: form, status: .unprocessableContent))
            }
            part = BidStore.Part(
                partRole: form["partRole"] ?? "", tasks: form["tasks"] ?? "", budgetShareFen: fen, contribution: form["contribution"] ?? "")
        }
        let answer = part
        return try await act(id, actor: actor, context: context, failing: Outcome(answer: form), done: accept ? "accepted" : "declined") {
            _ = try await BidStore.respond(id: id, unitID: unitID, accept: accept, part: answer, by: actor, on: $0)
        }
    }

    @Sendable func attach(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let id = try PublicPageController.pathID(context)
        let upload = try await PageUpload.read(request)
        guard let expected = context.token.map(PageSession.csrf), PageSession.matches(upload[PageSession.csrfField], expected) else {
            throw Problem(status: .forbidden, detail: "表单已失效或来源不明，请刷新页面后重新提交。")
        }
        guard let file = upload.files["file"], !file.filename.isEmpty else {
            return try await bidPage(
                id, actor: actor, context: context, outcome: Outcome(errors: ["文件：请选择要上传的 PDF 文件"], status: .unprocessableContent))
        }
        return try await act(id, actor: actor, context: context, done: "attached") {
            _ = try await BidAttachments.add(
                bidID: id, filename: file.filename, contentType: file.contentType, bytes: file.bytes, by: actor, on: $0)
        }
    }

    @Sendable func attachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let id = try PublicPageController.pathID(context)
        guard let text = context.parameters.get("attachmentID"), let attachmentID = Int(text), attachmentID > 0 else {
            throw Self.notFound(id)
        }
        do {
            let (attachment, bytes) = try await database.withConnection {
                try await BidAttachments.download(bidID: id, attachmentID: attachmentID, for: actor, on: $0)
            }
            return PDFResponse.download(filename: attachment.filename, sha256: attachment.sha256, bytes: bytes)
        } catch DomainError.notFound, DomainError.forbidden {
            throw Problem(status: .notFound, detail: "没有这个附件。")
        }
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        let revision = form["revision"].flatMap { Int($0) }
        do {
            _ = try await BidStore.submit(id: id, ifRevision: revision, by: actor, database: database)
        } catch DomainError.notFound {
            throw Self.notFound(id)
        } catch let error as DomainError {
            return try await bidPage(
                id, actor: actor, context: context,
                outcome: Outcome(errors: ["未能提交："] + PageMessages.chinese(error), status: Problem(error).status))
        }
        return .redirect(to: "/unit/bids/\(id)?done=submitted#receipts", type: .normal)
    }

    @Sendable func withdraw(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.unitPerson(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        guard form["confirm"] == "yes" else {
            return try await bidPage(
                id, actor: actor, context: context, outcome: Outcome(errors: ["撤回申报须勾选「确认撤回」"], status: .unprocessableContent))
        }
        let response = try await act(id, actor: actor, context: context, done: "withdrawn") {
            _ = try await BidStore.withdraw(id: id, by: actor, on: $0)
        }
        guard response.status == .seeOther else { return response }
        return .redirect(to: "/unit?done=withdrawn", type: .normal)
    }
}

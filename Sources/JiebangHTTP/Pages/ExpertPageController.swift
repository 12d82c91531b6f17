import Foundation
import Hummingbird
import Jiebang
import Postgres

/// The expert's workspace: their panel seats with deadlines (`/expert`), a seat's bid material, attachments
/// and score sheet (`/expert/assignments/:id`), saving a draft or submitting it, and recusal. It calls the
/// same domain as the API (`ScoreSheet`, `Rubric`, `ReviewRecusal`, `BidStore`, `BidAttachments`): a seat
/// that is not the expert's own is a not-found page, and nothing shows another expert's scores.
struct ExpertPageController {
    let database: PostgresClient
    let renderer: PageRenderer

    init(database: PostgresClient, renderer: PageRenderer = .shared) {
        self.database = database
        self.renderer = renderer
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("expert", use: workspace)
        router.get("expert/assignments/:id", use: assignment)
        router.post("expert/assignments/:id/score", use: score)
        router.post("expert/assignments/:id/recusal", use: recuse)
        router.get("expert/assignments/:id/attachments/:attachmentID", use: attachment)
    }

    /// The signed-in expert, or the answer that sends anyone else away: a sign-in redirect for the
    /// anonymous, a 403 page for other roles.
    static func expert(_ request: Request, _ context: AppRequestContext) throws -> Actor {
        try PageAccess.require([.expert], request, context, refusal: "评审工作台仅供评审专家使用。")
    }

    static func statusName(_ status: ScoreSheet.Status) -> String {
        switch status {
        case .none: "未评分"
        case .draft: "草稿已保存"
        case .submitted: "已提交"
        }
    }

    // MARK: The list

    struct SeatView: Sendable {
        var id: Int
        var challengeTitle: String
        var leadUnitName: String
        var deadline: String
        var status: String
        var submitted: Bool
        var overdue: Bool
    }

    struct WorkspaceView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var seats: [SeatView]
        var hasSeats: Bool
        var notice: String?
    }

    @Sendable func workspace(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.expert(request, context)
        let sheets = try await database.withConnection { try await ScoreSheet.mine(by: actor, on: $0) }
        let now = Date()
        let notice: String? =
            switch request.uri.queryParameters["done"] {
            case "recused": "已申请回避，系统将另行抽取专家。"
            default: nil
            }
        let view = WorkspaceView(
            seats: sheets.map {
                SeatView(
                    id: $0.assignmentID, challengeTitle: $0.challengeTitle, leadUnitName: $0.leadUnitName,
                    deadline: PageFormat.dateTime($0.scoringDeadline), status: Self.statusName($0.status),
                    submitted: $0.status == .submitted, overdue: $0.status != .submitted && $0.scoringDeadline < now)
            }, hasSeats: !sheets.isEmpty, notice: notice)
        return renderer.response("expert", view, context: context)
    }

    // MARK: One seat

    struct CriterionView: Sendable {
        var key: String
        var name: String
        var weight: Int
        var minScore: Int
        var maxScore: Int
        var score: String
        var comment: String
    }

    struct FileView: Sendable {
        var link: String
        var filename: String
        var size: String
        var sha256: String
    }

    struct MemberView: Sendable {
        var unitName: String
        var role: String
        var tasks: String
        var budget: PageFormat.Money
    }

    struct AssignmentView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var id: Int
        var challengeID: Int
        var challengeTitle: String
        var leadUnitName: String
        var deadline: String
        var status: String
        var locked: Bool
        var open: Bool
        var submittedAt: String?
        var weightedTotal: String
        var criteria: [CriterionView]
        var technicalRoute: String
        var rdFoundation: String
        var indicatorAnswers: [String]
        var requested: PageFormat.Money
        var total: PageFormat.Money
        var members: [MemberView]
        var files: [FileView]
        var hasFiles: Bool
        var notice: String?
        var error: String?
        var csrf: String
    }

    /// The actor's seat `id` and the rubric it is scored against.
    /// - Throws: a 404 problem unless it is the actor's active panel seat (another expert's is not revealed).
    static func seat(_ id: Int, actor: Actor, on db: PostgresConnection) async throws -> (sheet: ScoreSheet, rubric: Rubric) {
        do {
            let sheet = try await ScoreSheet.load(assignmentID: id, by: actor, on: db)
            return (sheet, try await Rubric.load(roundID: sheet.roundID, on: db))
        } catch DomainError.notFound {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的评审任务。")
        }
    }

    /// The page of seat `id`, with `entered` values in place of the stored ones when a form is shown again.
    func assignmentPage(
        _ id: Int, actor: Actor, context: AppRequestContext, entered: PageForm? = nil, notice: String? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (sheet, rubric, bid, files) = try await database.withConnection { db in
            let (sheet, rubric) = try await Self.seat(id, actor: actor, on: db)
            let bid = try await BidStore.bid(id: sheet.bidID, for: actor, on: db)
            let files = try await BidAttachments.list(bidID: sheet.bidID, for: actor, on: db)
            return (sheet, rubric, bid, files)
        }
        let stored = Dictionary(sheet.items.map { ($0.criterion, $0) }, uniquingKeysWith: { first, _ in first })
        let locked = sheet.status == .submitted
        let view = AssignmentView(
            id: sheet.assignmentID, challengeID: sheet.challengeID, challengeTitle: sheet.challengeTitle,
            leadUnitName: sheet.leadUnitName, deadline: PageFormat.dateTime(sheet.scoringDeadline), status: Self.statusName(sheet.status),
            locked: locked, open: !locked && sheet.roundStatus == "assigned" && sheet.scoringDeadline > Date(),
            submittedAt: sheet.submittedAt.map(PageFormat.dateTime), weightedTotal: "\(sheet.weightedTotal)",
            criteria: rubric.criteria.map { criterion in
                CriterionView(
                    key: criterion.key, name: criterion.name, weight: criterion.weight, minScore: criterion.minScore,
                    maxScore: criterion.maxScore,
                    score: entered?["score.\(criterion.key)"] ?? stored[criterion.key].map { "\($0.score)" } ?? "",
                    comment: entered?["comment.\(criterion.key)"] ?? stored[criterion.key]?.comment ?? "")
            },
            technicalRoute: bid.content.technicalRoute, rdFoundation: bid.content.rdFoundation,
            indicatorAnswers: bid.content.indicatorAnswers, requested: PageFormat.money(fen: bid.content.requestedFundingFen),
            total: PageFormat.money(fen: bid.content.totalInvestmentFen),
            members: bid.members.filter { $0.status == "accepted" || $0.role == "lead" }.map {
                MemberView(
                    unitName: $0.unitName, role: $0.role == "lead" ? "牵头单位" : "联合单位", tasks: $0.tasks,
                    budget: PageFormat.money(fen: $0.budgetShareFen))
            },
            files: files.map {
                FileView(
                    link: "/expert/assignments/\(id)/attachments/\($0.id)", filename: $0.filename,
                    size: "\(max(1, ($0.sizeBytes + 1023) / 1024)) KiB", sha256: $0.sha256)
            },
            hasFiles: !files.isEmpty, notice: notice, error: error, csrf: context.token.map(PageSession.csrf) ?? "")
        return renderer.response("assignment", view, context: context, status: status)
    }

    @Sendable func assignment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.expert(request, context)
        let id = try PublicPageController.pathID(context)
        let notice: String? =
            switch request.uri.queryParameters["done"] {
            case "saved": "草稿已保存。提交前可以继续修改。"
            case "submitted": "评分已提交，不能再修改。"
            default: nil
            }
        return try await assignmentPage(id, actor: actor, context: context, notice: notice)
    }

    @Sendable func score(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.expert(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        let submitting = form["action"] == "submit"
        let rubric = try await database.withConnection { try await Self.seat(id, actor: actor, on: $0).rubric }
        var items: [ScoreSheet.Item] = []
        var problems: [String] = []
        for criterion in rubric.criteria {
            let text = (form["score.\(criterion.key)"] ?? "").trimmingCharacters(in: .whitespaces)
            let comment = form["comment.\(criterion.key)"] ?? ""
            if text.isEmpty {
                if !comment.isEmpty { problems.append("「\(criterion.name)」有评语但没有分数") }
                continue
            }
            guard let value = Int(text) else {
                problems.append("「\(criterion.name)」的分数应为整数")
                continue
            }
            items.append(ScoreSheet.Item(criterion: criterion.key, score: value, comment: comment))
        }
        // The domain names an item by its place in `items`; the page names it by its criterion.
        let criteria = Dictionary(rubric.criteria.map { ($0.key, $0.name) }, uniquingKeysWith: { first, _ in first })
        var names: [String: String] = [:]
        for (index, item) in items.enumerated() {
            let name = criteria[item.criterion] ?? item.criterion
            names["items[\(index)].score"] = "「\(name)」的分数"
            names["items[\(index)].comment"] = "「\(name)」的评语"
        }
        if !problems.isEmpty {
            return try await assignmentPage(
                id, actor: actor, context: context, entered: form, error: problems.joined(separator: "；") + "。",
                status: .unprocessableContent)
        }
        do {
            try await database.withTransaction { tx in
                _ = try await ScoreSheet.save(assignmentID: id, items, by: actor, on: tx)
                if submitting { _ = try await ScoreSheet.submit(assignmentID: id, by: actor, on: tx) }
            }
        } catch let error as DomainError {
            let status: HTTPResponse.Status = Problem(error).status
            return try await assignmentPage(
                id, actor: actor, context: context, entered: form,
                error: "未能\(submitting ? "提交" : "保存")：\(PageMessages.line(error, fields: names))",
                status: status == .notFound ? .notFound : status)
        }
        return .redirect(to: "/expert/assignments/\(id)?done=\(submitting ? "submitted" : "saved")", type: .normal)
    }

    @Sendable func recuse(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.expert(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            try await database.withTransaction { try await ReviewRecusal.recuse(assignmentID: id, reason: reason, by: actor, on: $0) }
        } catch DomainError.notFound {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的评审任务。")
        } catch let error as DomainError {
            return try await assignmentPage(
                id, actor: actor, context: context, error: "未能申请回避：\(PageMessages.line(error))", status: Problem(error).status)
        }
        return .redirect(to: "/expert?done=recused", type: .normal)
    }

    @Sendable func attachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.expert(request, context)
        let id = try PublicPageController.pathID(context)
        guard let text = context.parameters.get("attachmentID"), let attachmentID = Int(text), attachmentID > 0 else {
            throw Problem(status: .notFound, detail: "没有这个附件。")
        }
        let (file, bytes) = try await database.withConnection { db in
            do {
                let sheet = try await ScoreSheet.load(assignmentID: id, by: actor, on: db)
                return try await BidAttachments.download(bidID: sheet.bidID, attachmentID: attachmentID, for: actor, on: db)
            } catch DomainError.notFound {
                throw Problem(status: .notFound, detail: "没有这个附件。")
            }
        }
        return PDFResponse.download(filename: file.filename, sha256: file.sha256, bytes: bytes)
    }
}

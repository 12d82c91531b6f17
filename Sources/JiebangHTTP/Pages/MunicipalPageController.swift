import Foundation
import Hummingbird
import Jiebang
import Postgres

/// The municipal bureau's workspace (`/municipal`): the bids of its region by programme, each programme's
/// recommendation quota used and left, the region's 汇总表, and on each submitted bid the decision
/// (推荐, 退回修改, 不予推荐) with its opinion. The rules are `BidReview.decide`'s: another region's bid,
/// a bid not submitted, a return after the window, the quota used are each refused there.
struct MunicipalPageController {
    let database: PostgresClient
    let renderer: PageRenderer

    init(database: PostgresClient, renderer: PageRenderer = .shared) {
        self.database = database
        self.renderer = renderer
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("municipal", use: workspace)
        router.post("municipal/bids/:id/decision", use: decide)
        router.get("municipal/programmes/:id/summary", use: summary)
    }

    /// The signed-in recommender, or the answer that sends anyone else away.
    static func recommender(_ request: Request, _ context: AppRequestContext) throws -> Actor {
        try PageAccess.require([.municipalRecommender], request, context, refusal: "推荐工作台仅供市州工信部门使用。")
    }

    struct BidRow: Sendable {
        var id: Int
        var challengeTitle: String
        var leadUnitName: String
        var partners: String
        var status: String
        var submittedAt: String?
        var requested: PageFormat.Money
        var open: Bool
    }

    struct ProgrammeBlock: Sendable {
        var id: Int
        var name: String
        var quota: String
        var used: Int
        var left: String
        var bids: [BidRow]
    }

    struct WorkspaceView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var region: String
        var programmes: [ProgrammeBlock]
        var hasProgrammes: Bool
        var csrf: String
        var notice: String?
        var error: String?
    }

    func page(
        _ actor: Actor, context: AppRequestContext, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let region = actor.regionCode ?? ""
        let blocks = try await database.withConnection { db -> [ProgrammeBlock] in
            let bids = try await BidStore.list(
                programmeID: nil, challengeID: nil, status: nil, beforeID: nil, limit: 200, for: actor, on: db)
            var blocks: [ProgrammeBlock] = []
            for programmeID in Array(Set(bids.map(\.programmeID))).sorted(by: >) {
                let programme = try await ProgrammeStore.programme(id: programmeID, on: db)
                let (quota, used) = try await BidReview.quotaUsage(programmeID: programmeID, region: region, on: db)
                blocks.append(
                    ProgrammeBlock(
                        id: programmeID, name: programme.name, quota: quota.map { "\($0) 项" } ?? "不限", used: used,
                        left: quota.map { "\(max(0, $0 - used)) 项" } ?? "不限",
                        bids: bids.filter { $0.programmeID == programmeID }.map { bid in
                            let lead = bid.members.first { $0.role == "lead" }
                            let partners = bid.members.filter { $0.role == "partner" && $0.status == "accepted" }.map(\.unitName)
                            return BidRow(
                                id: bid.id, challengeTitle: bid.challengeTitle, leadUnitName: lead?.unitName ?? "",
                                partners: partners.isEmpty ? "—" : partners.joined(separator: "、"),
                                status: BureauPageController.statusName(bid.status), submittedAt: bid.submittedAt.map(PageFormat.dateTime),
                                requested: PageFormat.money(fen: bid.content.requestedFundingFen), open: bid.status == .submitted)
                        }))
            }
            return blocks
        }
        let view = WorkspaceView(
            region: region, programmes: blocks, hasProgrammes: !blocks.isEmpty, csrf: context.token.map(PageSession.csrf) ?? "",
            notice: notice, error: error)
        return renderer.response("municipal", view, context: context, status: status)
    }

    @Sendable func workspace(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.recommender(request, context)
        let notice: String? =
            switch request.uri.queryParameters["done"] {
            case "recommend": "已推荐。"
            case "return": "已退回申报单位修改。"
            case "decline": "已决定不予推荐。"
            default: nil
            }
        return try await page(actor, context: context, notice: notice)
    }

    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.recommender(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        guard let decision = form["decision"].flatMap(BidReview.Decision.init(rawValue:)) else {
            return try await page(actor, context: context, error: "请选择推荐、退回修改或不予推荐。", status: .unprocessableContent)
        }
        let opinion = form["opinion"] ?? ""
        do {
            _ = try await database.withTransaction { try await BidReview.decide(bidID: id, decision, opinion: opinion, by: actor, on: $0) }
        } catch DomainError.notFound {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的申报书。")
        } catch DomainError.forbidden {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的申报书。")
        } catch let error as DomainError {
            return try await page(actor, context: context, error: "申报书 \(id) 未能处理：\(PageMessages.line(error))", status: Problem(error).status)
        }
        return .redirect(to: "/municipal?done=\(decision.rawValue)", type: .normal)
    }

    @Sendable func summary(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.recommender(request, context)
        let id = try PublicPageController.pathID(context)
        let format = request.uri.queryParameters["format"].map(String.init) ?? "xlsx"
        guard format == "csv" || format == "xlsx" else {
            throw Problem(status: .badRequest, detail: "汇总表格式应为 csv 或 xlsx。")
        }
        return try await BidController.summaryDownload(
            programmeID: id, region: actor.regionCode, format: format, for: actor, database: database, logger: context.logger)
    }
}

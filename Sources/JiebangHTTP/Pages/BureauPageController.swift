import Foundation
import Hummingbird
import Jiebang
import Postgres

/// The publishing bureau's programme dashboard: its programmes (`/bureau`), and for one
/// (`/bureau/programmes/:id`) its bids by status, per challenge and per region as bar charts, the review's
/// progress, the overdue score sheets, and the 汇总表 downloads. The figures are `ProgrammeDashboard`'s;
/// the charts are SVG drawn here with their labels and values on them, readable without colour.
struct BureauPageController {
    let database: PostgresClient
    let renderer: PageRenderer

    init(database: PostgresClient, renderer: PageRenderer = .shared) {
        self.database = database
        self.renderer = renderer
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("bureau", use: programmes)
        router.get("bureau/programmes/:id", use: dashboard)
        router.get("bureau/programmes/:id/summary", use: summary)
    }

    /// The signed-in publisher (or system admin), or the answer that sends anyone else away.
    static func publisher(_ request: Request, _ context: AppRequestContext) throws -> Actor {
        try PageAccess.require([.provincialPublisher, .systemAdmin], request, context, refusal: "专项看板仅供发榜单位查看。")
    }

    /// A bid status in Chinese.
    static func statusName(_ status: BidStatus) -> String {
        switch status {
        case .draft: "草稿"
        case .submitted: "已提交"
        case .returned: "退回修改"
        case .recommended: "已推荐"
        case .declined: "未获推荐"
        case .withdrawn: "已撤回"
        case .formalPassed: "形式审查通过"
        case .formalFailed: "形式审查未通过"
        }
    }

    // MARK: Charts

    /// One bar: its label on the left, its value at its end.
    struct Bar: Sendable {
        var label: String
        var fullLabel: String
        var value: Int
        var y: Int
        var textY: Int
        var width: Int
        var valueX: Int
    }

    /// A horizontal bar chart as SVG coordinates.
    struct BarChart: Sendable {
        var id: String
        var title: String
        var height: Int
        var bars: [Bar]
        var hasBars: Bool

        static let labelWidth = 220
        static let barSpace = 360
        static let rowHeight = 30

        init(id: String, title: String, rows: [(label: String, value: Int)]) {
            self.id = id
            self.title = title
            let largest = max(1, rows.map(\.value).max() ?? 1)
            bars = rows.enumerated().map { index, row in
                let width = row.value == 0 ? 0 : max(2, row.value * Self.barSpace / largest)
                let y = index * Self.rowHeight + 6
                return Bar(
                    label: row.label.count > 15 ? String(row.label.prefix(14)) + "…" : row.label, fullLabel: row.label,
                    value: row.value, y: y, textY: y + 14, width: width, valueX: Self.labelWidth + width + 6)
            }
            height = max(1, rows.count) * Self.rowHeight + 8
            hasBars = !rows.isEmpty
        }
    }

    /// The review's progress as a line: submitted sheets over panel seats.
    struct Progress: Sendable {
        var submitted: Int
        var seats: Int
        var drafts: Int
        var overdue: Int
        var percent: Int
        var width: Int
    }

    // MARK: Pages

    struct ProgrammeLink: Sendable {
        var id: Int
        var name: String
        var year: Int
        var closes: String
    }

    struct ListView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var programmes: [ProgrammeLink]
        var hasProgrammes: Bool
    }

    @Sendable func programmes(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(request, context)
        let programmes = try await database.withConnection { try await ProgrammeDashboard.programmes(of: actor, on: $0) }
        let view = ListView(
            programmes: programmes.map {
                ProgrammeLink(id: $0.id, name: $0.name, year: $0.year, closes: PageFormat.dateTime($0.applicationClosesAt))
            }, hasProgrammes: !programmes.isEmpty)
        return renderer.response("bureau", view, context: context)
    }

    struct ChallengeRow: Sendable {
        var id: Int
        var title: String
        var submitted: Int
        var recommended: Int
        var formalPassed: Int
        var drafts: Int
    }

    struct OverdueRow: Sendable {
        var expertName: String
        var challengeTitle: String
        var leadUnitName: String
        var deadline: String
    }

    struct DashboardView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var id: Int
        var name: String
        var total: Int
        var submitted: Int
        var statusChart: BarChart
        var challengeChart: BarChart
        var regionChart: BarChart
        var challenges: [ChallengeRow]
        var progress: Progress
        var overdue: [OverdueRow]
        var hasOverdue: Bool
    }

    @Sendable func dashboard(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(request, context)
        let id = try PublicPageController.pathID(context)
        let figures: ProgrammeDashboard.Figures
        do {
            figures = try await database.withConnection { try await ProgrammeDashboard.figures(programmeID: id, by: actor, on: $0) }
        } catch DomainError.notFound {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的专项。")
        }
        let review = figures.review
        let percent = review.seats == 0 ? 0 : review.submitted * 100 / review.seats
        let view = DashboardView(
            id: figures.programme.id, name: figures.programme.name, total: figures.byStatus.reduce(0) { $0 + $1.count },
            submitted: figures.byChallenge.reduce(0) { $0 + $1.submitted },
            statusChart: BarChart(
                id: "by-status", title: "申报书按状态",
                rows: figures.byStatus.map { (Self.statusName(BidStatus(rawValue: $0.key) ?? .draft), $0.count) }),
            challengeChart: BarChart(
                id: "by-challenge", title: "各榜单已提交的申报书", rows: figures.byChallenge.map { ($0.title, $0.submitted) }),
            regionChart: BarChart(id: "by-region", title: "各市州已提交的申报书", rows: figures.byRegion.map { ($0.name, $0.count) }),
            challenges: figures.byChallenge.map {
                ChallengeRow(
                    id: $0.challengeID, title: $0.title, submitted: $0.submitted, recommended: $0.recommended,
                    formalPassed: $0.formalPassed, drafts: $0.drafts)
            },
            progress: Progress(
                submitted: review.submitted, seats: review.seats, drafts: review.drafts, overdue: review.overdue, percent: percent,
                width: review.seats == 0 ? 0 : review.submitted * 560 / review.seats),
            overdue: figures.overdue.map {
                OverdueRow(
                    expertName: $0.expertName, challengeTitle: $0.challengeTitle, leadUnitName: $0.leadUnitName,
                    deadline: PageFormat.dateTime($0.deadline))
            },
            hasOverdue: !figures.overdue.isEmpty)
        return renderer.response("dashboard", view, context: context)
    }

    @Sendable func summary(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(request, context)
        let id = try PublicPageController.pathID(context)
        let format = request.uri.queryParameters["format"].map(String.init) ?? "xlsx"
        guard format == "csv" || format == "xlsx" else {
            throw Problem(status: .badRequest, detail: "汇总表格式应为 csv 或 xlsx。")
        }
        return try await BidController.summaryDownload(
            programmeID: id, region: nil, format: format, for: actor, database: database, logger: context.logger)
    }
}

import Foundation
import Hummingbird
import Jiebang
import Postgres

/// The public pages, no sign-in: the board (`/`), a challenge (`/challenges/:id`), the programmes with
/// published lists (`/programmes`) and a programme's lists of winning and successful units and its open
/// 公示 (`/programmes/:id`). They read the same stores as `/v1/board`.
struct PublicPageController {
    let database: PostgresClient
    let facets: BoardFacetCache
    let entries: BoardEntryCache
    let renderer: PageRenderer

    init(database: PostgresClient, renderer: PageRenderer = .shared) {
        self.database = database
        self.facets = BoardFacetCache(database: database)
        self.entries = BoardEntryCache(renderer: renderer)
        self.renderer = renderer
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/", use: board)
        router.get("challenges/:id", use: challenge)
        router.get("programmes", use: programmes)
        router.get("programmes/:id", use: programme)
        router.get("static/site.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.site_css)))
        }
    }

    // MARK: The board

    struct Option: Sendable {
        var value: String
        var label: String
        var selected: Bool
    }

    struct BoardEntry: Sendable, Hashable {
        var id: Int
        var link: String
        /// The title as HTML, the search hits marked (`PageHTML.marked`).
        var titleHTML: String
        var programmeName: String
        var category: String
        var domain: String
        var industryChain: String
        var status: String
        var open: Bool
        var deadline: String
        var ceilingWan: String
        var ceilingYuan: String
    }

    struct FieldProblem: Sendable {
        var label: String
        var message: String
    }

    struct BoardView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var q: String
        var deadlineFrom: String
        var deadlineTo: String
        /// The selects' options as HTML (`PageHTML.options`).
        var programmeOptions: String
        var domainOptions: String
        var chainOptions: String
        var categoryOptions: String
        var statusOptions: String
        var errors: [FieldProblem]
        var hasErrors: Bool
        var total: Int
        var hasKeyword: Bool
        /// The result rows' HTML (`BoardEntryCache`).
        var entriesHTML: String
        var hasEntries: Bool
        var previousURL: String?
        var nextURL: String?
    }

    /// The form's fields, in the order the page shows them, with their labels.
    static let fieldLabels: [String: String] = [
        "q": "关键词", "programme": "专项", "domain": "领域", "industryChain": "产业链", "category": "任务类别",
        "status": "状态", "deadlineFrom": "申报截止日期从", "deadlineTo": "申报截止日期至", "after": "翻页位置", "before": "翻页位置",
        "limit": "每页条数",
    ]

    /// Why a field of the form is refused, in Chinese.
    static let fieldReasons: [String: String] = [
        "q": "过长，至多 50 个字", "programme": "应为专项编号", "domain": "过长", "industryChain": "过长",
        "category": "应为列出的任务类别之一", "status": "应为“征集中”或“已截止”", "deadlineFrom": "应为日期，如 2027-01-15",
        "deadlineTo": "应为日期，如 2027-01-15", "after": "不是有效的翻页位置", "limit": "应为 1 到 100 的整数",
    ]

    @Sendable func board(_ request: Request, context: AppRequestContext) async throws -> Response {
        let given = Parameters(request.uri.queryParameters.filter { !$0.value.isEmpty })
        let value = { (name: String) -> String in given[Substring(name)].map(String.init) ?? "" }
        var errors: [FieldProblem] = []
        var query = BoardStore.Query()
        do {
            query = try BoardQueryParser.parse(Parameters(given.filter { $0.key != "before" }))
        } catch let problem as Problem {
            errors = (problem.errors ?? []).map {
                FieldProblem(label: Self.fieldLabels[$0.field] ?? $0.field, message: Self.fieldReasons[$0.field] ?? $0.message)
            }
            query = BoardStore.Query()
        }
        if query.after == nil, let text = given["before"] {
            if let cursor = BoardQueryParser.decode(String(text)) {
                query.before = cursor
            } else {
                errors.append(FieldProblem(label: "翻页位置", message: "不是有效的翻页位置"))
            }
        }
        // The page, its count and the board's last change in one round trip; the filter choices then come
        // from the cache unless a challenge changed.
        let (page, total, facets): (BoardStore.Page, Int, BoardStore.Facets)
        if errors.isEmpty {
            let counted = try await database.withConnection { try await BoardStore.countedPage(query, on: $0) }
            (page, total) = (counted.page, counted.total)
            facets = try await self.facets.current(stamp: counted.stamp)
        } else {
            (page, total) = (BoardStore.Page(entries: [], next: nil, previous: nil), 0)
            facets = try await self.facets.current()
        }
        let names = Dictionary(facets.programmes.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let keyword = query.keyword.map { String($0.trimmingWhiteSpace()) }
        let kept = given.filter { $0.key != "after" && $0.key != "before" }
        func link(_ name: String, _ cursor: BoardStore.Cursor?) -> String? {
            guard let cursor, let encoded = BoardQueryParser.encode(cursor) else { return nil }
            return Self.url("/", kept.map { (String($0.key), String($0.value)) } + [(name, encoded)])
        }
        let rows = page.entries.map { entry in
            BoardEntry(
                id: entry.id,
                link: keyword.map { Self.url("/challenges/\(entry.id)", [("q", $0)]) } ?? "/challenges/\(entry.id)",
                titleHTML: PageHTML.marked(PageFormat.highlight(entry.title, keyword)),
                programmeName: names[entry.programmeID] ?? "专项 \(entry.programmeID)",
                category: PageFormat.category(entry.category), domain: entry.domain, industryChain: entry.industryChain,
                status: PageFormat.status(entry.status), open: entry.status == .published,
                deadline: PageFormat.dateTime(entry.applicationDeadline),
                ceilingWan: PageFormat.money(fen: entry.fundingCeilingFen).wan,
                ceilingYuan: PageFormat.money(fen: entry.fundingCeilingFen).yuan)
        }
        let view = BoardView(
            q: value("q"), deadlineFrom: value("deadlineFrom"), deadlineTo: value("deadlineTo"),
            programmeOptions: PageHTML.options(
                facets.programmes.map { Option(value: "\($0.id)", label: $0.name, selected: value("programme") == "\($0.id)") }),
            domainOptions: PageHTML.options(facets.domains.map { Option(value: $0, label: $0, selected: value("domain") == $0) }),
            chainOptions: PageHTML.options(
                facets.industryChains.map { Option(value: $0, label: $0, selected: value("industryChain") == $0) }),
            categoryOptions: PageHTML.options(
                PageFormat.categories.map { Option(value: $0, label: PageFormat.category($0), selected: value("category") == $0) }),
            statusOptions: PageHTML.options(
                [ChallengeStatus.published, .closed].map {
                    Option(value: $0.rawValue, label: PageFormat.status($0), selected: value("status") == $0.rawValue)
                }),
            errors: errors, hasErrors: !errors.isEmpty, total: total, hasKeyword: !(keyword ?? "").isEmpty,
            entriesHTML: entries.html(rows), hasEntries: !rows.isEmpty,
            previousURL: link("before", page.previous), nextURL: link("after", page.next))
        return renderer.response("board", view, context: context, status: errors.isEmpty ? .ok : .badRequest)
    }

    // MARK: A challenge

    struct Paragraph: Sendable {
        var parts: [PageFormat.Segment]
    }

    struct Change: Sendable {
        var field: String
        var value: String
    }

    struct AmendmentView: Sendable {
        var version: Int
        var amendedAt: String
        var reason: String
        var changes: [Change]
    }

    struct WinnerView: Sendable {
        var leadUnitName: String
        var partners: String
        var stage: String
        var publishedAt: String
        var objectionsClose: String
        var inPublicity: Bool
    }

    struct ChallengeView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var id: Int
        var titleParts: [PageFormat.Segment]
        var title: String
        var programmeID: Int
        var programmeName: String
        var status: String
        var open: Bool
        var category: String
        var domain: String
        var industryChain: String
        var deadline: String
        var completionDeadline: String
        var ceiling: PageFormat.Money
        var winnersAllowed: Int
        var version: Int
        var publishedAt: String?
        var task: [Paragraph]
        var content: [Paragraph]
        var indicators: [Paragraph]
        var amendments: [AmendmentView]
        var hasAmendments: Bool
        var winners: [WinnerView]
        var hasWinners: Bool
    }

    @Sendable func challenge(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try Self.pathID(context)
        let keyword = request.uri.queryParameters["q"].map { String($0.trimmingWhiteSpace()) }
        let found = try await database.withConnection { db -> (ChallengeStore.PublicChallenge, [AwardStore.PublicWinner])? in
            guard let challenge = try await ChallengeStore.publicChallenge(id: id, on: db) else { return nil }
            let winners = try await AwardStore.publicWinners(programmeID: challenge.programmeID, on: db).filter { $0.challengeID == id }
            return (challenge, winners)
        }
        guard let (challenge, winners) = found else { throw Problem(status: .notFound, detail: "没有编号为 \(id) 的已发布榜单。") }
        func paragraphs(_ text: String) -> [Paragraph] {
            text.split(whereSeparator: \.isNewline).map { Paragraph(parts: PageFormat.highlight(String($0), keyword)) }
        }
        let now = Date()
        let view = ChallengeView(
            id: challenge.id, titleParts: PageFormat.highlight(challenge.title, keyword), title: challenge.title,
            programmeID: challenge.programmeID, programmeName: challenge.programmeName,
            status: PageFormat.status(challenge.status), open: challenge.status == .published,
            category: PageFormat.category(challenge.category), domain: challenge.domain, industryChain: challenge.industryChain,
            deadline: PageFormat.dateTime(challenge.applicationDeadline), completionDeadline: challenge.completionDeadline,
            ceiling: PageFormat.money(fen: challenge.fundingCeilingFen), winnersAllowed: challenge.winners,
            version: challenge.version, publishedAt: challenge.publishedAt.map(PageFormat.dateTime),
            task: paragraphs(challenge.task), content: paragraphs(challenge.content),
            indicators: challenge.indicators.map { Paragraph(parts: PageFormat.highlight($0, keyword)) },
            amendments: challenge.amendments.sorted { $0.version > $1.version }.map(Self.amendment),
            hasAmendments: !challenge.amendments.isEmpty,
            winners: winners.map { Self.winner($0, now: now) }, hasWinners: !winners.isEmpty)
        return renderer.response("challenge", view, context: context)
    }

    static func amendment(_ amendment: ChallengeStore.Amendment) -> AmendmentView {
        let fields = (try? JSONDecoder().decode([String: String].self, from: Data(amendment.changes.utf8))) ?? [:]
        let order = [
            "title", "task", "content", "indicators", "category", "domain", "industryChain", "applicationDeadline",
            "completionDeadline", "fundingCeilingFen", "winners",
        ]
        let keys = fields.keys.sorted { (order.firstIndex(of: $0) ?? order.count, $0) < (order.firstIndex(of: $1) ?? order.count, $1) }
        return AmendmentView(
            version: amendment.version, amendedAt: PageFormat.dateTime(amendment.amendedAt), reason: amendment.reason,
            changes: keys.map { Change(field: PageFormat.amendedField($0), value: PageFormat.amendedValue($0, fields[$0] ?? "")) })
    }

    static func winner(_ winner: AwardStore.PublicWinner, now: Date) -> WinnerView {
        WinnerView(
            leadUnitName: winner.leadUnitName,
            partners: winner.partnerUnitNames.isEmpty ? "—" : winner.partnerUnitNames.joined(separator: "、"),
            stage: winner.stage == .final ? "已确定" : "公示中", publishedAt: PageFormat.day(winner.publishedAt),
            objectionsClose: PageFormat.dateTime(winner.objectionsCloseAt),
            inPublicity: winner.stage != .final && winner.objectionsCloseAt > now)
    }

    // MARK: Programmes

    struct ProgrammeLink: Sendable {
        var id: Int
        var name: String
    }

    struct ProgrammesView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var programmes: [ProgrammeLink]
    }

    @Sendable func programmes(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facets = try await facets.current()
        return renderer.response(
            "programmes", ProgrammesView(programmes: facets.programmes.map { ProgrammeLink(id: $0.id, name: $0.name) }), context: context)
    }

    struct ListedWinner: Sendable {
        var challengeID: Int
        var challengeTitle: String
        var winner: WinnerView
    }

    struct NoticeView: Sendable {
        var challengeID: Int
        var challengeTitle: String
        var publishedAt: String
        var objectionsClose: String
        /// The audit chain's head when the notice went out.
        var auditHead: String?
    }

    struct SuccessView: Sendable {
        var challengeTitle: String
        var leadUnitName: String
        var partners: String
        var achievement: String
        var publishedAt: String
        var auditHead: String?
    }

    struct ProgrammeView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var id: Int
        var name: String
        var year: Int
        var bureauName: String
        var applicationOpens: String
        var applicationCloses: String
        var publicityWorkingDays: Int
        var notices: [NoticeView]
        var hasNotices: Bool
        var winners: [ListedWinner]
        var hasWinners: Bool
        var successes: [SuccessView]
        var hasSuccesses: Bool
    }

    @Sendable func programme(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try Self.pathID(context)
        let (programme, winners, successes) = try await database.withConnection { db in
            let programme: ProgrammeStore.Programme
            do {
                programme = try await ProgrammeStore.programme(id: id, on: db)
            } catch DomainError.notFound {
                throw Problem(status: .notFound, detail: "没有编号为 \(id) 的专项。")
            }
            return (
                programme, try await AwardStore.publicWinners(programmeID: id, on: db),
                try await SuccessListStore.published(programmeID: id, on: db)
            )
        }
        let now = Date()
        var notices: [NoticeView] = []
        for winner in winners where winner.stage != .final && winner.objectionsCloseAt > now {
            if notices.last?.challengeID != winner.challengeID {
                notices.append(
                    NoticeView(
                        challengeID: winner.challengeID, challengeTitle: winner.challengeTitle,
                        publishedAt: PageFormat.day(winner.publishedAt), objectionsClose: PageFormat.dateTime(winner.objectionsCloseAt),
                        auditHead: winner.auditHead))
            }
        }
        let view = ProgrammeView(
            id: programme.id, name: programme.name, year: programme.year, bureauName: programme.bureauName,
            applicationOpens: PageFormat.dateTime(programme.applicationOpensAt),
            applicationCloses: PageFormat.dateTime(programme.applicationClosesAt),
            publicityWorkingDays: programme.publicityWorkingDays, notices: notices, hasNotices: !notices.isEmpty,
            winners: winners.map {
                ListedWinner(challengeID: $0.challengeID, challengeTitle: $0.challengeTitle, winner: Self.winner($0, now: now))
            },
            hasWinners: !winners.isEmpty,
            successes: successes.map {
                SuccessView(
                    challengeTitle: $0.challengeTitle, leadUnitName: $0.leadUnitName,
                    partners: $0.partnerUnitNames.isEmpty ? "—" : $0.partnerUnitNames.joined(separator: "、"),
                    achievement: $0.achievement, publishedAt: PageFormat.day($0.publishedAt), auditHead: $0.auditHead)
            },
            hasSuccesses: !successes.isEmpty)
        return renderer.response("programme", view, context: context)
    }

    // MARK: Helpers

    /// The `:id` path parameter; anything but a positive whole number is a page that does not exist.
    static func pathID(_ context: AppRequestContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else {
            throw Problem(status: .notFound, detail: "没有这个页面。")
        }
        return id
    }

    /// Characters a query value keeps unescaped.
    static let queryValueCharacters: CharacterSet = {
        var set = CharacterSet.urlQueryAllowed
        set.remove(charactersIn: "&=+#?/;")
        return set
    }()

    /// `path` with `parameters` as its query, each value percent-encoded.
    static func url(_ path: String, _ parameters: [(String, String)]) -> String {
        guard !parameters.isEmpty else { return path }
        let query = parameters.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: queryValueCharacters) ?? "")"
        }
        return path + "?" + query.joined(separator: "&")
    }
}

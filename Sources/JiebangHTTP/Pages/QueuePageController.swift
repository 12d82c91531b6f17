import Foundation
import Hummingbird
import Jiebang
import JobQueue
import Postgres

/// The operators' queue dashboard (system administrators only): counts by state and kind, the queue's
/// latency, a filterable list of jobs, a job's arguments, attempts and errors, retry and cancel, and the
/// cron schedules' last slots. It calls `JobStore`'s operator statements, as `jiebang jobs` does.
struct QueuePageController {
    let database: PostgresClient
    let renderer: PageRenderer
    /// The product's cron schedules, for their next slots (the database keeps only the last one enqueued).
    let schedules: [CronSchedule]

    init(database: PostgresClient, schedules: [CronSchedule] = [], renderer: PageRenderer = .shared) {
        self.database = database
        self.schedules = schedules
        self.renderer = renderer
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("admin/jobs", use: list)
        router.get("admin/jobs/:id", use: show)
        router.post("admin/jobs/:id/retry", use: retry)
        router.post("admin/jobs/:id/cancel", use: cancel)
        router.post("admin/jobs/:id/discard", use: discard)
    }

    /// The signed-in system administrator, or the answer that sends anyone else away.
    static func operator_(_ request: Request, _ context: AppRequestContext) throws -> Actor {
        try PageAccess.require([.systemAdmin], request, context, refusal: "任务队列仅供系统管理员查看。")
    }

    /// A job state in Chinese.
    static func stateName(_ state: JobState) -> String {
        switch state {
        case .available: "待执行"
        case .scheduled: "已排期"
        case .running: "执行中"
        case .retryable: "待重试"
        case .completed: "已完成"
        case .discarded: "已放弃"
        case .cancelled: "已取消"
        }
    }

    static let retriable: Set<JobState> = [.discarded, .cancelled, .retryable, .scheduled, .completed]
    static let discardable: Set<JobState> = [.available, .scheduled, .retryable]
    static let cancellable: Set<JobState> = [.available, .scheduled, .retryable, .running]

    // MARK: The list

    typealias Option = PublicPageController.Option

    struct StateCount: Sendable {
        var state: String
        var label: String
        var count: Int
        var link: String
    }

    struct KindRow: Sendable {
        var kind: String
        var cells: [Int]
    }

    struct JobRow: Sendable {
        var id: Int
        var kind: String
        var queue: String
        var state: String
        var failed: Bool
        var attempts: String
        var runAt: String
        var lastError: String?
    }

    struct CronView: Sendable {
        var name: String
        var expression: String
        var lastSlot: String
        var enqueuedAt: String
        var nextSlot: String
    }

    /// A line of one value per minute, drawn in SVG with its figures written beside it (readable without colour).
    struct Sparkline: Sendable {
        static let width = 300.0
        static let height = 48.0

        var points: String
        var summary: String

        init(_ values: [Double], summary: String) {
            let top = max(values.max() ?? 0, 1e-9)
            let step = values.count > 1 ? Self.width / Double(values.count - 1) : 0
            points = values.enumerated().map { index, value in
                String(format: "%.1f,%.1f", Double(index) * step, Self.height - 2 - value / top * (Self.height - 4))
            }.joined(separator: " ")
            self.summary = summary
        }
    }

    struct ListView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var totals: [StateCount]
        var stateLabels: [String]
        var kinds: [KindRow]
        var latency: String
        var liveRows: Int
        var deadRows: Int
        var states: [Option]
        var kindOptions: [Option]
        var jobs: [JobRow]
        var hasJobs: Bool
        var nextURL: String?
        var cron: [CronView]
        var hasCron: Bool
        var throughput: Sparkline
        var latencyLine: Sparkline
    }

    /// The two sparklines of the last hour: completions per minute, and the mean enqueue-to-start wait.
    static func sparklines(_ minutes: [JobStore.ActivityMinute]) -> (throughput: Sparkline, latency: Sparkline) {
        let completed = minutes.map { Double($0.completed) }
        let total = minutes.reduce(0) { $0 + $1.completed }
        let started = minutes.filter { $0.started > 0 }
        let attempts = started.reduce(0) { $0 + $1.started }
        let meanWait = attempts == 0 ? 0 : started.reduce(0.0) { $0 + $1.meanWaitSeconds * Double($1.started) } / Double(attempts)
        let worst = started.map(\.meanWaitSeconds).max() ?? 0
        return (
            Sparkline(
                completed,
                summary: "最近 \(minutes.count) 分钟完成 \(total) 个，最多 \(Int(completed.max() ?? 0)) 个/分钟，本分钟 \(minutes.last?.completed ?? 0) 个"),
            Sparkline(
                minutes.map(\.meanWaitSeconds),
                summary: attempts == 0
                    ? "最近 \(minutes.count) 分钟没有任务开始执行"
                    : String(format: "%d 次执行从到期到开始平均等待 %.2f 秒，最慢的一分钟平均 %.2f 秒", attempts, meanWait, worst))
        )
    }

    static let pageSize = 50

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try Self.operator_(request, context)
        let parameters = request.uri.queryParameters
        let state = parameters["state"].flatMap { JobState(rawValue: String($0)) }
        let kind = parameters["kind"].map(String.init).flatMap { $0.isEmpty || $0.count > 200 ? nil : $0 }
        let after = parameters["after"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        let (statistics, jobs, cron, activity) = try await database.withConnection { db in
            (
                try await JobStore.statistics(on: db),
                try await JobStore.list(state: state, kind: kind, queue: nil, afterID: after, limit: Self.pageSize, on: db),
                try await JobStore.cronSlots(on: db),
                try await JobStore.activity(minutes: 60, on: db)
            )
        }
        let (throughput, latencyLine) = Self.sparklines(activity)
        let now = Date()
        let slots = Dictionary(cron.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let known = Set(schedules.map(\.name))
        let cronRows =
            schedules.map { schedule in
                CronView(
                    name: schedule.name, expression: schedule.expression.description,
                    lastSlot: slots[schedule.name].map { PageFormat.dateTime($0.lastSlot) } ?? "尚未排入",
                    enqueuedAt: slots[schedule.name].map { PageFormat.dateTime($0.enqueuedAt) } ?? "",
                    nextSlot: schedule.nextSlot(after: now).map(PageFormat.dateTime) ?? "不再触发")
            }
            + cron.filter { !known.contains($0.name) }.map {
                CronView(
                    name: $0.name, expression: "", lastSlot: PageFormat.dateTime($0.lastSlot),
                    enqueuedAt: PageFormat.dateTime($0.enqueuedAt), nextSlot: "本程序未定义")
            }
        let states = JobState.allCases
        let kinds = Array(Set(statistics.counts.map(\.kind))).sorted()
        var kept: [(String, String)] = []
        if let state { kept.append(("state", state.rawValue)) }
        if let kind { kept.append(("kind", kind)) }
        let view = ListView(
            totals: states.map { state in
                StateCount(
                    state: state.rawValue, label: Self.stateName(state), count: statistics.total(state),
                    link: PublicPageController.url("/admin/jobs", [("state", state.rawValue)]))
            },
            stateLabels: states.map(Self.stateName),
            kinds: kinds.map { kind in
                KindRow(
                    kind: kind,
                    cells: states.map { state in
                        statistics.counts.first { $0.kind == kind && $0.state == state }?.count ?? 0
                    })
            },
            latency: statistics.oldestAvailableAge.map { String(format: "%.1f 秒", $0) } ?? "无待执行任务",
            liveRows: statistics.liveRows, deadRows: statistics.deadRows,
            states: states.map { Option(value: $0.rawValue, label: Self.stateName($0), selected: $0 == state) },
            kindOptions: kinds.map { Option(value: $0, label: $0, selected: $0 == kind) },
            jobs: jobs.map { job in
                JobRow(
                    id: job.id, kind: job.kind, queue: job.queue, state: Self.stateName(job.state),
                    failed: job.state == .discarded || job.state == .retryable, attempts: "\(job.attempt)/\(job.maxAttempts)",
                    runAt: PageFormat.dateTime(job.runAt), lastError: job.lastError)
            },
            hasJobs: !jobs.isEmpty,
            nextURL: jobs.count == Self.pageSize
                ? jobs.last.map { PublicPageController.url("/admin/jobs", kept + [("after", "\($0.id)")]) } : nil,
            cron: cronRows, hasCron: !cronRows.isEmpty, throughput: throughput, latencyLine: latencyLine)
        return renderer.response("jobs", view, context: context)
    }

    // MARK: One job

    struct ErrorRow: Sendable {
        var attempt: Int
        var at: String
        var message: String
    }

    struct JobView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var id: Int
        var kind: String
        var queue: String
        var state: String
        var priority: Int
        var attempts: String
        var runAt: String
        var createdAt: String
        var attemptedAt: String?
        var finishedAt: String?
        var leaseOwner: String?
        var leaseExpiresAt: String?
        var uniqueKey: String?
        var cancelRequested: Bool
        var arguments: String
        var errors: [ErrorRow]
        var hasErrors: Bool
        var canRetry: Bool
        var canCancel: Bool
        var canDiscard: Bool
        var csrf: String
        var notice: String?
        var error: String?
    }

    func jobPage(
        _ id: Int, context: AppRequestContext, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let job = try await database.withConnection({ try await JobStore.detail(id: id, on: $0) }) else {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的任务。")
        }
        let view = JobView(
            id: job.id, kind: job.kind, queue: job.queue, state: Self.stateName(job.state), priority: job.priority,
            attempts: "\(job.attempt)/\(job.maxAttempts)", runAt: PageFormat.dateTime(job.runAt),
            createdAt: PageFormat.dateTime(job.createdAt), attemptedAt: job.attemptedAt.map(PageFormat.dateTime),
            finishedAt: job.finishedAt.map(PageFormat.dateTime), leaseOwner: job.leaseOwner,
            leaseExpiresAt: job.leaseExpiresAt.map(PageFormat.dateTime), uniqueKey: job.uniqueKey,
            cancelRequested: job.cancelRequested, arguments: Self.pretty(job.arguments),
            errors: job.errors.reversed().map {
                ErrorRow(attempt: $0.attempt, at: $0.at.map(PageFormat.dateTime) ?? "—", message: $0.message)
            },
            hasErrors: !job.errors.isEmpty, canRetry: Self.retriable.contains(job.state),
            canCancel: Self.cancellable.contains(job.state) && !job.cancelRequested,
            canDiscard: Self.discardable.contains(job.state),
            csrf: context.token.map(PageSession.csrf) ?? "", notice: notice, error: error)
        return renderer.response("job", view, context: context, status: status)
    }

    /// JSON text indented for reading; other text as it is.
    static func pretty(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return json }
        return String(decoding: data, as: UTF8.self)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try Self.operator_(request, context)
        let id = try PublicPageController.pathID(context)
        let notice: String? =
            switch request.uri.queryParameters["done"] {
            case "retried": "任务已重新排入队列，将立即执行。"
            case "cancelled": "任务已取消。"
            case "discarded": "任务已放弃，不会再执行（除非重试）。"
            case "requested": "已请求停止：执行它的进程将在下次续租时停止它。"
            default: nil
            }
        return try await jobPage(id, context: context, notice: notice)
    }

    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try Self.operator_(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        do {
            try await database.withConnection { _ = try await JobStore.retry(id: id, on: $0) }
        } catch let error as JobQueueError where error.code == .notFound {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的任务。")
        } catch let error as JobQueueError {
            return try await jobPage(id, context: context, error: "未能重试：\(error.message)", status: .conflict)
        }
        return .redirect(to: "/admin/jobs/\(id)?done=retried", type: .normal)
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try Self.operator_(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        let result: JobStore.CancelResult
        do {
            result = try await database.withConnection { try await JobStore.cancel(id: id, on: $0) }
        } catch let error as JobQueueError where error.code == .notFound {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的任务。")
        } catch let error as JobQueueError {
            return try await jobPage(id, context: context, error: "未能取消：\(error.message)", status: .conflict)
        }
        return .redirect(to: "/admin/jobs/\(id)?done=\(result == .requested ? "requested" : "cancelled")", type: .normal)
    }

    @Sendable func discard(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try Self.operator_(request, context)
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        do {
            try await database.withConnection { try await JobStore.discard(id: id, on: $0) }
        } catch let error as JobQueueError where error.code == .notFound {
            throw Problem(status: .notFound, detail: "没有编号为 \(id) 的任务。")
        } catch let error as JobQueueError {
            return try await jobPage(id, context: context, error: "未能放弃：\(error.message)", status: .conflict)
        }
        return .redirect(to: "/admin/jobs/\(id)?done=discarded", type: .normal)
    }
}

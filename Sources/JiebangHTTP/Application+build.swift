import Foundation
public import Hummingbird
import HummingbirdCore
public import Jiebang
public import JobQueue
public import Logging
import NIOCore
import NIOPosix
public import Postgres
public import Prometheus
public import ServiceLifecycle
import Synchronization

/// Where the HTTP server listens.
public struct HTTPConfiguration: Sendable {
    /// The address to bind. Default `127.0.0.1`.
    public var hostname: String = "127.0.0.1"
    /// The TCP port. Default 8080.
    public var port: Int = 8080
    /// How long a keep-alive connection may sit with no request before the server closes it, so
    /// idle sockets cannot pile up. Default 60 seconds.
    public var idleTimeout: Duration = .seconds(60)
    /// How long a connection may take to send a request's head, counted from when it is ready for one
    /// (opened, or done with the previous response), however slowly the bytes trickle in; this also closes
    /// keep-alive connections idle for longer. Default 30 seconds.
    public var requestHeadTimeout: Duration = .seconds(30)
    /// How long a request's body may take to arrive after its head (a 20 MiB upload at 200 KiB/s fits).
    /// Default 120 seconds.
    public var requestBodyTimeout: Duration = .seconds(120)
    /// How sign-in attempts are throttled per login and per address (``SignInThrottle``); nil throttles
    /// nothing (only for tests that measure signing in itself). Default `.standard`.
    public var signInThrottles: SignInThrottle.Rules? = .standard
    /// How units registered by people not signed in are throttled per client address; nil throttles
    /// nothing. Default `.registrationsPerAddress` (10 in a row, then waits from a minute to a day).
    public var registrationThrottle: SignInThrottle? = .registrationsPerAddress
    /// The reverse proxies whose `X-Forwarded-For` names the client (``ClientAddressMiddleware``): addresses,
    /// or networks in CIDR notation (`10.0.0.0/8`); empty believes no such header. Default empty.
    public var trustedProxies: Set<String> = []
    /// The most API requests handled at once; further ones answer 503 problem+json with `Retry-After` at
    /// once (``LoadSheddingMiddleware``; `/healthz` is never refused). Nil sets no limit. Default 256.
    public var maximumRequestsInFlight: Int? = 256
    /// The keys webhook secrets are sealed under (``SecretsKeyring``); nil uses the database's own key
    /// (`server_secrets`), made on first use. `jiebang serve` always sets one. Default nil.
    public var secretsKeys: SecretsKeyring? = nil
    /// The threads that read requests and write answers (NIO's event loops). Default: half the CPUs, at
    /// least one (``defaultThreads``).
    ///
    /// A request crosses from the thread that read it to the one that runs its handler, and its answer
    /// back. On 2 CPUs shared with PostgreSQL, one such thread instead of two cut the server's CPU a
    /// submission by 11% on average in the deadline rush (Benchmarks/BidBenchmark) at the same p99, and left the
    /// board's rate as it was.
    public var threads: Int = HTTPConfiguration.defaultThreads

    /// Half the CPUs the process may use, at least one.
    public static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount / 2) }

    /// Creates a configuration.
    public init(hostname: String = "127.0.0.1", port: Int = 8080) {
        self.hostname = hostname
        self.port = port
    }

    /// The first of `entries` that is neither an IP address nor a network in CIDR notation, or nil.
    public static func invalidTrustedProxy(_ entries: some Sequence<String>) -> String? {
        switch TrustedProxies.parse(entries) {
        case .success: nil
        case .failure(let invalid): invalid.entry
        }
    }

    /// The event loops of `threads` threads: NIO's singleton group when it has that many, else a group made once
    /// per process for that count and kept (as the singleton is), so that applications built over and over, as
    /// the tests build them, do not each start threads of their own.
    var eventLoopGroup: EventLoopGroupProvider {
        if threads == NIOSingletons.groupLoopCountSuggestion { return .singleton }
        return .shared(
            Self.groups.withLock { groups in
                if let group = groups[threads] { return group }
                let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
                groups[threads] = group
                return group
            })
    }

    /// The event-loop groups made for thread counts other than the singleton's, by count.
    private static let groups = Mutex<[Int: MultiThreadedEventLoopGroup]>([:])

    /// The HTTP/1 server's settings: the idle timeout, the request deadlines (``RequestDeadlineHandler``), a
    /// problem+json answer to a request the parser refuses (``MalformedRequestHandler``), and a connection closed
    /// after the answer when the request asks for it, HTTP/1.0 ones too (``ConnectionCloseHandler``).
    var http1: HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                RequestDeadlineHandler(headTimeout: .init(requestHeadTimeout), bodyTimeout: .init(requestBodyTimeout)),
                MalformedRequestHandler(),
            ],
            idleTimeout: .init(idleTimeout))
    }
}

/// Builds the application: routes, middleware and services.
///
/// The one composition root, used by `jiebang serve` and by the tests.
/// `services` run before the HTTP server starts and stop after it: the
/// database pool first, then the recorder of token uses, then workers.
/// - Parameters:
///   - configuration: where to listen.
///   - database: the connection pool; added as the first service.
///   - boardDatabase: the pool the public board (its API and pages) reads from, for example standbys; nil reads
///     from `database`. Added as a service after it.
///   - metrics: the registry `/metrics` reports (the one the metrics factory writes to).
///   - services: further services (workers) to run with the server.
///   - passwordHasher: how passwords are hashed and checked (tests use a fast one).
///   - passwordHashing: the threads and queue that hash and check passwords (a service after the recorder).
///   - cronSchedules: the product's cron schedules, whose next slots the queue page shows (whichever process
///     enqueues them).
///   - logger: the application's logger.
///   - onServerRunning: called once the server listens, with its port.
public func buildApplication(
    configuration: HTTPConfiguration,
    database: PostgresClient,
    boardDatabase: PostgresClient? = nil,
    metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    services: [any Service] = [],
    passwordHasher: PasswordHasher = PasswordHasher(),
    passwordHashing: PasswordHashingPool.Configuration = PasswordHashingPool.Configuration(),
    cronSchedules: [CronSchedule] = [],
    logger: Logger,
    onServerRunning: @escaping @Sendable (_ port: Int?) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let tokenUses = TokenUseRecorder(database: database, logger: logger)
    let passwords = PasswordHashingPool(hasher: passwordHasher, configuration: passwordHashing)
    let router = apiRouter(
        database: database, boardDatabase: boardDatabase, metrics: metrics, passwords: passwords, tokenUses: tokenUses,
        cronSchedules: cronSchedules, signInThrottles: configuration.signInThrottles,
        registrationThrottle: configuration.registrationThrottle,
        trustedProxies: configuration.trustedProxies, maximumRequestsInFlight: configuration.maximumRequestsInFlight,
        secretsKeys: configuration.secretsKeys, logger: logger)
    return Application(
        router: router,
        server: .http1(configuration: configuration.http1),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.hostname, port: configuration.port), serverName: "jiebang"),
        services: [database] + (boardDatabase.map { [$0] } ?? []) + [tokenUses, passwords] + services,
        onServerRunning: { await onServerRunning($0.localAddress?.port) },
        eventLoopGroupProvider: configuration.eventLoopGroup,
        logger: logger)
}

/// Builds the HTTP side of a worker process (`jiebang work`): `/healthz`, `/readyz` and `/metrics` only.
public func buildOperationsApplication(
    configuration: HTTPConfiguration,
    database: PostgresClient,
    metrics: PrometheusCollectorRegistry,
    services: [any Service],
    logger: Logger
) -> some ApplicationProtocol {
    let routeMethods = RouteMethods()
    let router = operationsRouter(database: database, metrics: metrics, logger: logger, routeMethods: routeMethods)
    routeMethods.load(router)
    return Application(
        router: router,
        server: .http1(configuration: configuration.http1),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.hostname, port: configuration.port), serverName: "jiebang-worker"),
        services: [database] + services,
        logger: logger)
}

/// Every route of the API server: operations, the OpenAPI document, and `/v1` behind authentication.
/// - Parameters:
///   - boardDatabase: the pool the public board's API and pages read from (nil: `database`).
///   - passwords: where passwords are hashed and checked; it must run as a service to stop its threads.
///   - tokenUses: where requests leave their tokens' due `last_used_at` stamps; it must run as a
///     service for them to be written.
///   - signInThrottles: how sign-in attempts are counted per login and address (nil: not at all).
///   - registrationThrottle: how units registered by people not signed in are counted per address (nil: not at all).
///   - trustedProxies: the reverse proxies whose `X-Forwarded-For` names the client.
///   - maximumRequestsInFlight: the most requests handled at once (nil: no limit).
///   - secretsKeys: the keys webhook secrets are sealed under (nil: the database's own key).
///   - logger: where an outage of the database is logged, once when it starts and once when it ends.
func apiRouter(
    database: PostgresClient, boardDatabase: PostgresClient? = nil, metrics: PrometheusCollectorRegistry, passwords: PasswordHashingPool,
    tokenUses: TokenUseRecorder, cronSchedules: [CronSchedule] = [], signInThrottles: SignInThrottle.Rules? = .standard,
    registrationThrottle: SignInThrottle? = .registrationsPerAddress, trustedProxies: Set<String> = [],
    maximumRequestsInFlight: Int? = nil, secretsKeys: SecretsKeyring? = nil, logger: Logger = Logger(label: "jiebang")
) -> Router<AppRequestContext> {
    let routeMethods = RouteMethods()
    let router = operationsRouter(
        database: database, metrics: metrics, logger: logger, pages: true, maximumRequestsInFlight: maximumRequestsInFlight,
        routeMethods: routeMethods)
    // Entries that are neither addresses nor networks were refused at start (`HTTPConfiguration.invalidTrustedProxy`).
    if let proxies = try? TrustedProxies.parse(trustedProxies.filter { HTTPConfiguration.invalidTrustedProxy([$0]) == nil }).get(),
        !proxies.isEmpty
    {
        router.add(middleware: ClientAddressMiddleware(trustedProxies: proxies))
    }
    OpenAPIController().addRoutes(to: router)
    var signIn = PasswordSignIn(database: database, passwords: passwords)
    signIn.throttles = signInThrottles
    let pages = router.group()
        .add(middleware: RequestTextMiddleware())
        .add(middleware: PageSessionMiddleware(database: database, tokenUses: tokenUses))
    let boardDatabase = boardDatabase ?? database
    PublicPageController(database: boardDatabase).addRoutes(to: pages)
    SignInPageController(database: database, signIn: signIn).addRoutes(to: pages)
    ExpertPageController(database: database).addRoutes(to: pages)
    QueuePageController(database: database, schedules: cronSchedules).addRoutes(to: pages)
    BureauPageController(database: database).addRoutes(to: pages)
    MunicipalPageController(database: database).addRoutes(to: pages)
    UnitPageController(database: database).addRoutes(to: pages)
    InboxPageController(database: database).addRoutes(to: pages)
    let api = router.group()
        .add(middleware: RequestTextMiddleware())
        .add(middleware: AuthenticationMiddleware(database: database, tokenUses: tokenUses))
    BoardController(database: boardDatabase).addRoutes(to: api)
    SessionController(database: database, signIn: signIn)
        .addRoutes(to: api)
    ApiTokenController(database: database).addRoutes(to: api)
    AdministrationController(database: database, passwords: passwords).addRoutes(to: api)
    UnitController(database: database, passwords: passwords, registrationThrottle: registrationThrottle).addRoutes(to: api)
    ProgrammeController(database: database).addRoutes(to: api)
    DemandController(database: database).addRoutes(to: api)
    ResultController(database: database).addRoutes(to: api)
    TalentController(database: database).addRoutes(to: api)
    ChallengeController(database: database).addRoutes(to: api)
    BidController(database: database).addRoutes(to: api)
    NotificationController(database: database).addRoutes(to: api)
    ReviewController(database: database).addRoutes(to: api)
    ExpertController(database: database, passwords: passwords).addRoutes(to: api)
    ScoringController(database: database).addRoutes(to: api)
    AwardController(database: database).addRoutes(to: api)
    ProjectController(database: database).addRoutes(to: api)
    AcceptanceController(database: database).addRoutes(to: api)
    WebhookController(database: database, keys: secretsKeys).addRoutes(to: api)
    let selfIdentifying = router.group()
        .add(middleware: RequestTextMiddleware())
        .add(middleware: AuthenticationMiddleware(database: database, tokenUses: tokenUses, deferred: true))
    BidController(database: database).addSelfIdentifyingRoutes(to: selfIdentifying)
    routeMethods.load(router)
    return router
}

/// The routes every process serves: health, readiness and metrics, behind problem+json errors (which
/// answer 503 while the database is away, logging the outage once: `DatabaseAvailability`).
/// - Parameters:
///   - pages: whether the router serves pages, whose failures become error pages in Chinese
///     (`PageMiddleware`, outside the problem documents).
///   - maximumRequestsInFlight: the most requests handled at once, the excess refused with 503 before anything
///     else runs (`LoadSheddingMiddleware`); nil sets no limit.
func operationsRouter(
    database: PostgresClient, metrics: PrometheusCollectorRegistry, logger: Logger = Logger(label: "jiebang"), pages: Bool = false,
    maximumRequestsInFlight: Int? = nil, routeMethods: RouteMethods
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: SecurityHeadersMiddleware())
    if let maximumRequestsInFlight { router.add(middleware: LoadSheddingMiddleware(limit: maximumRequestsInFlight)) }
    if pages { router.add(middleware: PageMiddleware()) }
    let availability = DatabaseAvailability(database: database, logger: logger)
    router.add(middleware: ProblemMiddleware(availability: availability))
    router.add(middleware: RequestMetricsMiddleware())
    router.add(middleware: MethodNotAllowedMiddleware(routes: routeMethods))
    HealthController(database: database, availability: availability).addRoutes(to: router)
    MetricsController(registry: metrics).addRoutes(to: router)
    return router
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Logging
import Postgres
import Prometheus
import Synchronization
import Testing

@testable import JiebangHTTP

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sign-in at the production scrypt cost (about 0.1 s a check): no pooled connection and no
/// cooperative thread is held while a password is checked, every attempt costs the same, and a burst
/// beyond the bounded queue is refused with 503 and `Retry-After`.
///
/// The timed checks compare with generous bounds that the old sign-in (scrypt in a transaction on the
/// cooperative pool, two runs for a wrong password) misses by a factor of two or more. They run one
/// after another, so that none measures another's hashing.
@Suite("Sign-in under load", .serialized)
struct SignInTests {
    static let password = "correct horse battery"

    /// A hasher whose check costs what production's does (N = 2^15 takes about 0.1 s in a release
    /// build). A debug build's scrypt (BoringSSL at -O0) is about six times slower, so the exponent is
    /// the one whose measured time is nearest 0.1 s: 15 in a release build, 12 or 13 in a debug one.
    static let productionCost: PasswordHasher = {
        var hasher = PasswordHasher()
        hasher.costExponent = 10
        let times = (0..<3).map { _ in
            let start = ContinuousClock.now
            _ = try? hasher.hash(password)
            return milliseconds(ContinuousClock.now - start)
        }
        let atTen = times.sorted()[1]
        // Each step of the exponent doubles the time; take the one nearest 100 ms, in ratio.
        func distance(_ exponent: Int) -> Double { abs(log2(atTen * pow(2, Double(exponent - 10)) / 100)) }
        // At least 2^12: cheaper runs drown in the noise of a loaded machine, which the whole suite on 2 CPUs is.
        hasher.costExponent = (12...15).min { distance($0) < distance($1) }!
        return hasher
    }()

    /// A recommender whose password is hashed at the production cost, and two published challenges.
    static func world(_ db: PostgresClient) async throws {
        let hash = try productionCost.hash(password)
        let programme = try await BoardFixtures.programme(db)
        try await db.withTransaction { tx in
            _ = try await AccountStore.createUser(
                .init(login: "rec", displayName: "赵科长", role: .expert), passwordHash: hash, by: "test", on: tx)
            // Fifty more people with the same password: concurrent sign-ins are of different people, since one
            // login's attempts are throttled (SignInThrottle) after five in a row.
            for index in 1...50 {
                _ = try await AccountStore.createUser(
                    .init(login: "rec\(index)", displayName: "专家\(index)", role: .expert), passwordHash: hash, by: "test", on: tx)
            }
            for title in ["高性能稀土永磁材料关键制备技术", "镍钴资源高效提取技术"] {
                _ = try await BoardFixtures.challenge(tx, programme: programme, title: title, content: "开展关键技术研究")
            }
        }
    }

    static func credentials(_ login: String, _ password: String) -> [String: Any] {
        ["login": login, "password": password]
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func p99(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    @Test(
        "A wrong password for an existing login takes as long as an unknown login: within 10%, median of 21 interleaved pairs",
        .timeLimit(.minutes(2)))
    func equalWork() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await Self.world(db)
            // Hashing at the process's own priority: this measures the work, not the scheduling.
            var hashing = PasswordHashingPool.Configuration()
            hashing.niceness = 0
            // Forty-odd wrong passwords for one login in a row: this measures the check, not the throttle.
            var configuration = HTTPConfiguration()
            configuration.signInThrottles = nil
            let app = buildApplication(
                configuration: configuration, database: db, passwordHasher: Self.productionCost, passwordHashing: hashing,
                logger: Logger(label: "test"))
            try await app.test(.router) { client in
                func timed(_ login: String, _ password: String) async throws -> Double {
                    let start = ContinuousClock.now
                    let reply = try await client.call(.post, "/v1/sessions", json: Self.credentials(login, password))
                    #expect(reply.status == .unauthorized)
                    return Self.milliseconds(ContinuousClock.now - start)
                }
                // Warm up: the statements are prepared on first use.
                _ = try await timed("rec", "wrong password!")
                _ = try await timed("nobody", "wrong password!")
                // Up to five rounds of 21 pairs: a loaded machine (the whole suite runs at once on 2 CPUs) can skew one
                // round by 20%, but the old two-scrypt path differs by 2× in every round, so it never passes.
                var wrongPassword: [Double] = []
                var unknownLogin: [Double] = []
                var ratio = 0.0
                for _ in 0..<5 {
                    wrongPassword = []
                    unknownLogin = []
                    for index in 0..<21 {
                        // Alternate which goes first, so a slow moment of the machine falls on both.
                        if index.isMultiple(of: 2) {
                            wrongPassword.append(try await timed("rec", "wrong password!"))
                            unknownLogin.append(try await timed("nobody\(index)", "wrong password!"))
                        } else {
                            unknownLogin.append(try await timed("nobody\(index)", "wrong password!"))
                            wrongPassword.append(try await timed("rec", "wrong password!"))
                        }
                    }
                    // Each pair ran back to back, so their ratio cancels the machine's slower and faster moments.
                    ratio = Self.median(zip(unknownLogin, wrongPassword).map { $0 / $1 })
                    if abs(ratio - 1) <= 0.10 { break }
                }
                let (wrong, unknown) = (Self.median(wrongPassword), Self.median(unknownLogin))
                #expect(
                    abs(ratio - 1) <= 0.10,
                    "unknown login / wrong password: median ratio \(ratio), medians \(unknown) and \(wrong) ms (cost 2^\(Self.productionCost.costExponent)); samples \(unknownLogin.map { Int($0) }) and \(wrongPassword.map { Int($0) })"
                )
                // Both did the production-cost work (a check that skipped scrypt would take a few ms).
                #expect(min(wrong, unknown) > 20, "median wrong password \(wrong) ms, unknown login \(unknown) ms")
            }
        }
    }

    @Test("A burst beyond the bounded queue is answered 503 with Retry-After, and later sign-ins succeed", .timeLimit(.minutes(2)))
    func burstBeyondQueue() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await Self.world(db)
            let app = buildApplication(
                configuration: HTTPConfiguration(), database: db, passwordHasher: Self.productionCost,
                passwordHashing: PasswordHashingPool.Configuration(threads: 1, waitingPerThread: 2),
                logger: Logger(label: "test"))
            try await app.test(.router) { client in
                let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for index in 1...12 {
                        group.addTask { try await client.call(.post, "/v1/sessions", json: Self.credentials("rec\(index)", Self.password)) }
                    }
                    return try await group.reduce(into: [Reply]()) { $0.append($1) }
                }
                let statuses = replies.map(\.status.code)
                #expect(statuses.allSatisfy { $0 == 201 || $0 == 503 }, "\(statuses)")
                // One checks and two wait; the other nine arrive while they do.
                #expect(statuses.filter { $0 == 201 }.count >= 3, "\(statuses)")
                #expect(statuses.filter { $0 == 503 }.count >= 5, "\(statuses)")
                for reply in replies where reply.status == .serviceUnavailable {
                    #expect(reply.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                    #expect(reply.object["status"] as? Int == 503)
                    let retryAfter = try #require(reply.headers[.retryAfter].flatMap { Int($0) })
                    #expect((1...60).contains(retryAfter))
                }
                let later = try await client.call(.post, "/v1/sessions", json: Self.credentials("rec", Self.password))
                #expect(later.status == .created)
                #expect((later.object["token"] as? String)?.hasPrefix("jb_") == true)
            }
        }
    }

    @Test("With a pool of one connection, the board answers while sign-ins are hashing", .timeLimit(.minutes(2)))
    func noConnectionHeldWhileHashing() async throws {
        try await TestDatabase.withFreshDatabase(maximumConnections: 1) { db in
            try await Self.world(db)
            let passwords = PasswordHashingPool(
                hasher: Self.productionCost, configuration: PasswordHashingPool.Configuration(threads: 1, waitingPerThread: 8))
            let tokenUses = TokenUseRecorder(database: db)
            let app = Application(
                // Unthrottled: this measures that no connection is held while hashing, and the throttle's own
                // short transactions would queue on the one connection beside the board's.
                router: apiRouter(
                    database: db, metrics: PrometheusCollectorRegistry(), passwords: passwords, tokenUses: tokenUses, signInThrottles: nil),
                services: [db, tokenUses, passwords], logger: Logger(label: "test"))
            try await app.test(.router) { client in
                try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    // Five checks in turn on one thread: about half a second of hashing.
                    for index in 1...5 {
                        group.addTask {
                            try await client.call(.post, "/v1/sessions", json: Self.credentials("rec\(index)", Self.password)).status
                        }
                    }
                    let hashing = await eventually {
                        let load = passwords.load
                        return load.running == 1 && load.waiting >= 3
                    }
                    #expect(hashing, "the sign-ins did not reach the hashing threads")
                    let board = try await client.call(.get, "/v1/board/challenges")
                    #expect(board.status == .ok)
                    #expect((board.object["items"] as? [Any])?.count == 2)
                    let left = passwords.load
                    #expect(left.running + left.waiting >= 1, "the board answered only after every password was checked")
                    for try await status in group { #expect(status == .created) }
                }
            }
        }
    }

    @Test(
        "Fifty concurrent sign-ins to jiebang serve (its default hashing pool) at the production cost keep the board answering at pace, its p98 under 500 ms",
        .timeLimit(.minutes(3)))
    func boardStaysFastDuringSignIns() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            try await Self.world(db)
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let port = try FreePort.next()
            let process = try ChildProcess(
                ChildProcess.builtProduct("jiebang"), ["serve", "--no-with-workers", "--port", "\(port)"],
                environment: ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"])
            do {
                try await Self.measureBoard(port: port, process: process)
            } catch {
                process.send(SIGKILL)
                throw error
            }
            process.send(SIGTERM)
            #expect(await process.waitForExit() == 0, "\(process.output)")
        }
    }

    /// Runs fifty sign-ins against the server on `port` and checks the board's latency meanwhile.
    static func measureBoard(port: Int, process: ChildProcess) async throws {
        try await BidKillTests.waitUntilReady(port: port, process: process)
        let base = "http://127.0.0.1:\(port)"
        // Separate sessions: the board's requests never queue behind sign-ins in the client.
        let boardSession = URLSession(configuration: .ephemeral)
        let signInConfiguration = URLSessionConfiguration.ephemeral
        signInConfiguration.httpMaximumConnectionsPerHost = 64
        signInConfiguration.timeoutIntervalForRequest = 60
        let signInSession = URLSession(configuration: signInConfiguration)

        func board() async throws -> Double {
            var request = URLRequest(url: URL(string: base + "/v1/board/challenges")!)
            request.timeoutInterval = 10
            let start = ContinuousClock.now
            let (_, response) = try await boardSession.data(for: request)
            let elapsed = Self.milliseconds(ContinuousClock.now - start)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            return elapsed
        }
        for _ in 0..<5 { _ = try await board() }
        // The board alone, paced as below: how slow this machine's tail is before any sign-in.
        var quiet: [Double] = []
        for _ in 0..<60 {
            quiet.append(try await board())
            try await Task.sleep(for: .milliseconds(20))
        }

        let finished = Finished()
        let signingIn = Task { () async throws -> [Int] in
            defer { finished.flag.store(true, ordering: .releasing) }
            return try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 1...50 {
                    let body = try JSONSerialization.data(withJSONObject: Self.credentials("rec\(index)", Self.password))
                    group.addTask {
                        var request = URLRequest(url: URL(string: base + "/v1/sessions")!)
                        request.httpMethod = "POST"
                        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                        request.httpBody = body
                        let (_, response) = try await signInSession.data(for: request)
                        return (response as? HTTPURLResponse)?.statusCode ?? 0
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
        }
        let burstStart = ContinuousClock.now
        var latencies: [Double] = []
        while true {
            latencies.append(try await board())
            // Keep measuring until the burst is over (or a minute has passed), about fifty requests a second:
            // a busy board, not a loop that takes the CPUs from the hashing it measures.
            if finished.flag.load(ordering: .acquiring) || ContinuousClock.now - burstStart > .seconds(60) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let burst = Self.milliseconds(ContinuousClock.now - burstStart)
        let statuses = try await signingIn.value
        #expect(statuses.allSatisfy { $0 == 201 || $0 == 503 }, "\(statuses)")
        #expect(statuses.filter { $0 == 201 }.count >= 30, "\(statuses)")
        // The burst was long enough to matter: fifty checks of about 0.1 s on this machine's CPUs.
        #expect(burst > 300, "the burst lasted \(burst) ms")
        #expect(latencies.count >= 20, "\(latencies.count) board requests during a burst of \(burst) ms")
        // The target is 100 ms; on CI's two cores shared with the rest of the suite (and here with
        // other builds) the board's p99 during the burst measured 120-700 ms, so the bound is 500 ms, or
        // three times the board's tail alone. One request in fifty may be slower, and two more: stalls of
        // a busy machine. The old sign-in held the cooperative
        // threads: its board answered 13 requests in 4.6 s, the slowest after 3.3 s.
        let quietP99 = Self.p99(quiet)
        let bound = max(500, 3 * quietP99)
        let slow = latencies.filter { $0 >= bound }.count
        #expect(
            slow <= 2 + latencies.count / 50,
            "\(slow) board requests over \(bound) ms (p99 alone \(quietP99)): p99 \(Self.p99(latencies)) ms over \(latencies.count) requests during \(burst) ms of sign-ins; median \(Self.median(latencies)) ms; slowest \(latencies.sorted().suffix(5).map { Int($0) })"
        )
        // And the board kept a pace: at least an eighth of the requests a 20 ms pause and the quiet median
        // allow (scrypt's memory traffic slows the rest even at a lower priority; the old sign-in: 13 of 180).
        let paced = burst / (20 + Self.median(quiet))
        #expect(Double(latencies.count) >= paced / 8, "\(latencies.count) board requests in \(burst) ms, pace allows \(paced)")
    }

    /// Set once the sign-in burst is over.
    final class Finished: Sendable {
        let flag = Atomic<Bool>(false)
    }
}

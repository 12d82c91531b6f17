import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JiebangTesting
import Postgres
import Synchronization
import Testing

@testable import JiebangHTTP

/// The answers a server gives when it is short of capacity: requests beyond the limit in flight
/// (`LoadSheddingMiddleware`) and a database whose disk is full (`ProblemMiddleware`).
@Suite("Load shedding and a full disk")
struct LoadSheddingTests {
    /// A gate the slow route waits at until the test opens it.
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

        /// Waits until the gate is open.
        func pass() async {
            await withCheckedContinuation { continuation in
                let passNow = state.withLock { state -> Bool in
                    if state.open { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if passNow { continuation.resume() }
            }
        }

        /// Opens the gate for everyone waiting and everyone after.
        func open() {
            let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.open = true
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume() }
        }
    }

    /// A router with the API's outer middleware, a route that waits at `gate`, `/healthz`, and a route
    /// whose statement finds the disk full.
    static func router(shedding: LoadSheddingMiddleware<BasicRequestContext>, gate: Gate) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: shedding)
        router.add(middleware: ProblemMiddleware())
        router.get("/slow") { _, _ -> String in
            await gate.pass()
            return "done"
        }
        router.get("/healthz") { _, _ in "ok" }
        router.post("/upload") { _, _ -> String in
            var error = PostgresError(
                code: .server, message: "could not extend file \"pg_tblspc/16384/PG_15_202209061/16385/16400\": No space left on device",
                sqlState: "53100")
            error.query = "INSERT INTO bid_attachments (bid_id, name, data) VALUES ($1, $2, $3)"
            throw error
        }
        return router
    }

    @Test(
        "Requests beyond the limit in flight answer 503 problem+json with Retry-After at once; /healthz is never refused; a freed slot serves again",
        .timeLimit(.minutes(1)))
    func excessRequestsAnswer503() async throws {
        let gate = Gate()
        let shedding = LoadSheddingMiddleware<BasicRequestContext>(limit: 2)
        let app = Application(router: Self.router(shedding: shedding, gate: gate))
        try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 {
                    group.addTask { try await client.execute(uri: "/slow", method: .get) { Int($0.status.code) } }
                }
                #expect(await eventually(timeout: .seconds(20)) { shedding.inFlight.count.load(ordering: .relaxed) == 2 })
                try await client.execute(uri: "/slow", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] == "1")
                    #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                    let problem = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    #expect(problem?["status"] as? Int == 503)
                }
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
                gate.open()
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                #expect(statuses == [200, 200])
            }
            #expect(shedding.inFlight.count.load(ordering: .relaxed) == 0)
            try await client.execute(uri: "/slow", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("A statement that finds the database's disk full (SQLSTATE 53100) answers 507 problem+json saying nothing was saved, not 500")
    func diskFullAnswers507() async throws {
        let app = Application(router: Self.router(shedding: LoadSheddingMiddleware(limit: 10), gate: Gate()))
        try await app.test(.router) { client in
            try await client.execute(uri: "/upload", method: .post) { response in
                #expect(response.status.code == 507)
                #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                let problem = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect(problem?["status"] as? Int == 507)
                #expect(problem?["title"] as? String == "Insufficient storage")
                #expect((problem?["detail"] as? String)?.contains("nothing was saved") == true)
                #expect((problem?["detail"] as? String)?.contains("pg_tblspc") == false)
            }
        }
    }
}

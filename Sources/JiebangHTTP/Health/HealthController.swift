import Foundation
import Hummingbird
import Logging
import Postgres

/// `/healthz` (the process answers) and `/readyz` (it can reach the database).
struct HealthController {
    let database: PostgresClient
    /// Where an outage is reported (logged once) instead of logging every failed probe.
    let availability: DatabaseAvailability
    /// How long `/readyz` waits for the database before answering 503.
    var readinessTimeout: Duration = .seconds(2)

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("healthz", use: health)
        router.get("readyz", use: ready)
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
    }

    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> Response {
        let database = self.database
        let timeout = readinessTimeout
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await database.query("SELECT 1") }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw Problem(status: .serviceUnavailable, detail: "The database did not answer within \(timeout).")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let problem as Problem {
            throw problem
        } catch let error as PostgresError where error.isOutage {
            availability.reportOutage(error)
            throw Problem(status: .serviceUnavailable, detail: "The database cannot be reached.")
        } catch {
            if !availability.isUnreachable {
                context.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
            }
            throw Problem(status: .serviceUnavailable, detail: "The database cannot be reached.")
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
    }
}

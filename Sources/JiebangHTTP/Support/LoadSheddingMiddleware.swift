import Hummingbird
import Synchronization

/// Refuses requests beyond a limit of requests in flight at once, with 503 problem+json and
/// `Retry-After: 1`, before they touch anything: under a flood of connections the server answers
/// the excess at once instead of queueing it in memory and in the database pool. `/healthz` is never
/// refused, so a supervisor does not restart a process that is merely busy.
struct LoadSheddingMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The requests in flight, shared by every request through this middleware.
    final class InFlight: Sendable {
        let count = Atomic<Int>(0)
    }

    /// The most requests handled at once; the next ones are refused.
    let limit: Int
    let inFlight = InFlight()

    /// A middleware that lets at most `limit` requests (at least 1) through at once.
    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" {
            return try await next(request, context)
        }
        let admitted = inFlight.count.wrappingAdd(1, ordering: .relaxed).newValue <= limit
        defer { inFlight.count.wrappingSubtract(1, ordering: .relaxed) }
        guard admitted else {
            throw RetryLaterProblem(
                detail: "The server is handling as many requests as it can; try again shortly.", retryAfter: .seconds(1))
        }
        return try await next(request, context)
    }
}

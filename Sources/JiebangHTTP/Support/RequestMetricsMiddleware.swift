import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Records each request's count, duration and errors, by route, method and status, under the names of
/// Hummingbird's `MetricsMiddleware` (`hb.requests`, `http.server.request.duration`, `hb.request.errors`,
/// `http.server.active_requests`), so dashboards and alerts read the same series.
///
/// Hummingbird's middleware records after the body is written, by wrapping the body in a closure. A wrapped
/// body loses Hummingbird's fast path for a body held in one buffer (head, body and end handed to the
/// channel in one write, so one system call and one wake-up of the event loop), and every answer of this
/// service is such a body. This one records when the answer is ready, before it is written: the duration is
/// the time to produce the answer (for a streamed export, until its first byte), without the socket write.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics = RequestMetrics()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let active = metrics.active(request.method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            let route = metrics.route(context.endpointPath ?? "Unknown", request.method, response.status)
            route.requests.increment()
            route.duration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let route = metrics.route(context.endpointPath ?? "NotFound", request.method, status)
            route.requests.increment()
            metrics.errors(context.endpointPath ?? "NotFound", request.method, status).increment()
            throw error
        }
    }
}

/// The metric objects of ``RequestMetricsMiddleware``, made once per method and per route, method and status.
final class RequestMetrics: Sendable {
    /// The metrics of one route, method and status.
    struct Route: Sendable {
        let requests: Counter
        let duration: Timer
    }

    private struct RouteKey: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: HTTPResponse.Status
    }

    private let meters = Mutex<[HTTPRequest.Method: Meter]>([:])
    private let routes = Mutex<[RouteKey: Route]>([:])
    private let errorCounters = Mutex<[RouteKey: Counter]>([:])

    /// The meter of requests in flight with `method`.
    func active(_ method: HTTPRequest.Method) -> Meter {
        Self.entry(method, in: meters) {
            Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.description)])
        }
    }

    /// The metrics of `route` answered with `status`.
    func route(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> Route {
        Self.entry(RouteKey(route: route, method: method, status: status), in: routes) {
            let dimensions = [
                ("http.route", route), ("http.request.method", method.description),
                ("http.response.status_code", status.code.description),
            ]
            return Route(
                requests: Counter(label: "hb.requests", dimensions: dimensions),
                duration: Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds))
        }
    }

    /// The counter of errors thrown on `route` and answered with `status` (made at the first one, so a route
    /// that never failed shows no error series).
    func errors(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> Counter {
        Self.entry(RouteKey(route: route, method: method, status: status), in: errorCounters) {
            Counter(
                label: "hb.request.errors",
                dimensions: [
                    ("http.route", route), ("http.request.method", method.description), ("error.type", status.code.description),
                ])
        }
    }

    /// The value kept under `key` in `table`, made by `make` the first time.
    private static func entry<Key: Hashable & Sendable, Value: Sendable>(
        _ key: Key, in table: borrowing Mutex<[Key: Value]>, _ make: () -> Value
    ) -> Value {
        table.withLock { table in
            if let value = table[key] { return value }
            let value = make()
            table[key] = value
            return value
        }
    }
}

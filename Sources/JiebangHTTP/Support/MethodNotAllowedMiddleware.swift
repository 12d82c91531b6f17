import Hummingbird
import Synchronization

/// Answers 405 with `Allow` when no route answers the request's method at its path but a route answers another
/// (`DELETE /v1/board/challenges`), where the router says 404, as if the resource did not exist.
///
/// It reads the router's routes from ``RouteMethods``, loaded once every route is added.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && (context.endpointPath ?? "NotFound") == "NotFound" {
            // No route matched (the router's not-found responder names its endpoint "NotFound"; a route that
            // matched names its path): is the path another method's?
            let allowed = routes.methods(at: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method) else { throw error }
            throw MethodNotAllowedProblem(method: request.method, path: request.uri.path, allowed: allowed)
        }
    }
}

/// The methods each route path of a router answers.
final class RouteMethods: Sendable {
    private let table = Mutex<[(path: RouterPath, methods: [HTTPRequest.Method])]>([])

    /// Reads the routes of `router`, once every route is added; GET routes answer HEAD too.
    func load<Context>(_ router: Router<Context>) {
        var byPath: [String: (path: RouterPath, methods: Set<String>)] = [:]
        for route in router.routes {
            byPath[route.path.description, default: (route.path, [])].methods.insert(route.method.rawValue)
        }
        let rows = byPath.values.map { row in
            var methods = row.methods
            if methods.contains("GET") { methods.insert("HEAD") }
            return (path: row.path, methods: methods.sorted().compactMap { HTTPRequest.Method($0) })
        }
        table.withLock { $0 = rows }
    }

    /// The methods of the routes whose path matches `path`, in alphabetical order; empty when none does, and for a
    /// path with an empty segment (`/v1/notifications/mutes/`, a path parameter left empty): that is not read as
    /// another route's path, so it stays a 404.
    func methods(at path: String) -> [HTTPRequest.Method] {
        let components = path == "/" ? [] : Array(path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        guard !components.contains(where: \.isEmpty) else { return [] }
        let found = table.withLock { rows in rows.filter { Self.matches($0.path, components) }.flatMap(\.methods) }
        return Set(found.map(\.rawValue)).sorted().compactMap { HTTPRequest.Method($0) }
    }

    /// Whether a route path matches a request path's components (`**` matching the rest).
    static func matches(_ route: RouterPath, _ components: [Substring]) -> Bool {
        var index = 0
        for element in route.components {
            if element.description == "**" { return true }
            guard index < components.count, element ~= components[index] else { return false }
            index += 1
        }
        return index == components.count
    }
}

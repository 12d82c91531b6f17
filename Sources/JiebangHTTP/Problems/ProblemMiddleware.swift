public import Hummingbird
import Logging

/// Turns every error into a problem document: `Problem` as it is, Hummingbird's
/// own HTTP errors (unknown route, bad body) with their status, anything else
/// as a bare 500 whose cause goes to the log, never to the client.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            throw problem
        } catch let error as HTTPError {
            throw Problem(status: error.status, detail: error.body)
        } catch let error as any HTTPResponseError {
            throw Problem(status: error.status)
        } catch {
            context.logger.error(
                "request failed", metadata: ["error": "\(String(reflecting: error))", "http.path": "\(request.uri.path)"])
            throw Problem(status: .internalServerError, detail: "The server could not complete the request.")
        }
    }
}

import HTTPTypes
import Hummingbird

/// The security headers of every answer that does not set its own (the pages set theirs in
/// `PageMiddleware`): `nosniff`, so a browser never reads a JSON body or a PDF as something it is not; a
/// Content-Security-Policy that lets an API answer load nothing and be framed by no one; no referrer. It
/// is the outermost middleware, so errors and `/healthz` get the headers too.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The headers, each set unless the answer has it already (built once: a generic type has no stored statics).
    static var headers: HTTPFields { SecurityHeaders.fields }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // A problem thrown by an inner middleware becomes its answer here, so it gets the headers too.
            response = try error.response(from: request, context: context)
        }
        for field in Self.headers where response.headers[field.name] == nil {
            response.headers.append(field)
        }
        return response
    }
}

/// The fields ``SecurityHeadersMiddleware`` sets.
enum SecurityHeaders {
    static let fields: HTTPFields = [
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; frame-ancestors 'none'",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]
}

public import Hummingbird

/// A problem document with a `Retry-After` header (whole seconds): 503 when the server is short of
/// capacity for a moment, 429 when the caller must slow down; either says when to try again.
public struct RetryLaterProblem: HTTPResponseError, Sendable {
    /// The problem document sent.
    public var problem: Problem
    /// Seconds to wait before trying again (at least 1).
    public var retryAfterSeconds: Int

    /// Creates the problem (503 unless `status` says otherwise).
    public init(status: HTTPResponse.Status = .serviceUnavailable, detail: String, retryAfter: Duration) {
        problem = Problem(status: status, detail: detail)
        retryAfterSeconds = max(1, Int(retryAfter.components.seconds) + (retryAfter.components.attoseconds > 0 ? 1 : 0))
    }

    public var status: HTTPResponse.Status { problem.status }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try problem.response(from: request, context: context)
        response.headers[.retryAfter] = "\(retryAfterSeconds)"
        return response
    }
}

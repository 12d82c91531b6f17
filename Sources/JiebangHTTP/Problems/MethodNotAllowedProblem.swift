public import Hummingbird

/// A 405 problem: the path names a resource, whose routes answer other methods; `Allow` lists them (RFC 9110 §15.5.6).
public struct MethodNotAllowedProblem: HTTPResponseError, Sendable {
    /// The problem document sent.
    public var problem: Problem
    /// The methods the path answers.
    public var allowed: [HTTPRequest.Method]

    /// Creates the problem for a request with `method` at `path`.
    public init(method: HTTPRequest.Method, path: String, allowed: [HTTPRequest.Method]) {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        problem = Problem(
            status: .methodNotAllowed, detail: "\(path) answers \(list), not \(method.rawValue).",
            errors: [.init(field: "method", message: "\(method.rawValue) is not one of \(list)")])
        self.allowed = allowed
    }

    public var status: HTTPResponse.Status { .methodNotAllowed }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try problem.response(from: request, context: context)
        response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        return response
    }
}

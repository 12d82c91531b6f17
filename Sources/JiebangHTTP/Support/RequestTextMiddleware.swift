import HTTPTypes
import Hummingbird

/// Applies `RequestText`'s rule to the text of every API request outside its body: the path, each
/// query parameter's value (percent-decoded, as handlers read it) and the `Idempotency-Key`,
/// before any handler reads them.
///
/// Text that is not UTF-8 is a 400 and a NUL (U+0000) a 422, each naming the parameter. A body sent with a
/// `Content-Encoding` other than `identity` (gzip, br, …) is a 415 naming that header: bodies are read as sent,
/// and a compressed one would otherwise be refused as "not valid JSON", or kept compressed as an upload.
struct RequestTextMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try Self.check(request, parameters: context.parameters)
        return try await next(request, context)
    }

    /// Throws the problem for the first bad piece of text of `request`, naming a path parameter
    /// of the matched route when the text is one of `parameters`.
    static func check(_ request: Request, parameters: Parameters) throws {
        if let coding = request.headers[.contentEncoding],
            !coding.split(separator: ",").allSatisfy({ $0.filter { $0 != " " && $0 != "\t" }.lowercased() == "identity" })
        {
            throw Problem(
                status: .unsupportedMediaType, title: "Unsupported Content-Encoding",
                detail: "The server reads a request's body as sent: send it without Content-Encoding.",
                errors: [.init(field: "Content-Encoding", message: "\(coding) is not accepted: send the body uncompressed")])
        }
        for (name, value) in parameters {
            let bytes = RequestText.percentDecoded(value.utf8) ?? Array(value.utf8)
            guard RequestText.isUTF8(bytes) else { throw RequestText.notUTF8Problem(field: String(name)) }
            guard !bytes.contains(0) else { throw RequestText.nulProblem(field: String(name)) }
        }
        if let path = RequestText.percentDecoded(request.uri.path.utf8) {
            guard RequestText.isUTF8(path) else { throw RequestText.notUTF8Problem(field: "path") }
            guard !path.contains(0) else { throw RequestText.nulProblem(field: "path") }
        }
        if let query = request.uri.query {
            for parameter in query.utf8.split(separator: UInt8(ascii: "&")) {
                let name = parameter.prefix { $0 != UInt8(ascii: "=") }
                let field = String(decoding: RequestText.percentDecoded(name) ?? Array(name), as: UTF8.self)
                let value = RequestText.percentDecoded(parameter) ?? Array(parameter)
                guard RequestText.isUTF8(value) else { throw RequestText.notUTF8Problem(field: field) }
                guard !value.contains(0) else { throw RequestText.nulProblem(field: field) }
            }
        }
        if let key = request.headers[Creation.header], key.unicodeScalars.contains("\u{0}") {
            throw RequestText.nulProblem(field: "Idempotency-Key")
        }
    }
}

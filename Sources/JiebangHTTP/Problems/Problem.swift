import Foundation
public import Hummingbird
import StreamingJSON

/// An RFC 9457 problem document, sent as `application/problem+json`.
///
/// Every error the API answers with is a `Problem`: a short `title`, the
/// HTTP `status`, a `detail` for this occurrence and, for bad input, one
/// entry per field in `errors`.
public struct Problem: HTTPResponseError, Encodable, Sendable {
    /// One field-level error.
    public struct FieldError: Codable, Sendable, Hashable {
        /// A JSON pointer-like path to the field, for example `members[1].unitID`.
        public var field: String
        /// Why the value is not accepted.
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    /// A URI naming the kind of problem (`about:blank` when the status says it all).
    public var type: String
    /// A short summary of the kind of problem.
    public var title: String
    /// The HTTP status code.
    public var statusCode: Int
    /// What went wrong this time.
    public var detail: String?
    /// The field errors of a validation problem.
    public var errors: [FieldError]?

    /// Creates a problem.
    public init(
        status: HTTPResponse.Status, title: String? = nil, detail: String? = nil, type: String = "about:blank",
        errors: [FieldError]? = nil
    ) {
        self.type = type
        self.title = title ?? status.reasonPhrase
        self.statusCode = status.code
        self.detail = detail
        self.errors = errors
    }

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    enum CodingKeys: String, CodingKey {
        case type, title, statusCode = "status", detail, errors
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body = ByteBuffer()
        try StreamingJSONEncoder().encode(self, into: &body)
        return Response(
            status: status,
            headers: [.contentType: "application/problem+json; charset=utf-8"],
            body: .init(byteBuffer: body))
    }
}

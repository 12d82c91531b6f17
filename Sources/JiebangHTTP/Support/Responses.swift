import Foundation
import HTTPTypes
import Hummingbird
import Jiebang
import Postgres
import StreamingJSON

/// A JSON answer built inside a transaction and sent after it commits.
struct JSONAnswer: Sendable {
    var status: HTTPResponse.Status
    var body: Data
    /// The revision sent as the ETag, for a resource edited with If-Match.
    var revision: Int?
    /// The Location of a created resource.
    var location: String?
    /// Whether this answer replays an earlier request with the same Idempotency-Key.
    var replayed = false

    init(
        _ value: some Encodable, status: HTTPResponse.Status = .ok, revision: Int? = nil, location: String? = nil,
        context: AppRequestContext
    ) throws {
        self.status = status
        self.body = try context.responseEncoder.encode(value)
        self.revision = revision
        self.location = location
    }

    init(replaying status: Int, body: Data) {
        self.status = HTTPResponse.Status(code: status)
        self.body = body
        self.replayed = true
    }

    /// The HTTP response.
    var response: Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let revision { headers[.eTag] = "\"\(revision)\"" }
        if let location { headers[.location] = location }
        if replayed { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Runs creating requests in one transaction with their `Idempotency-Key`.
struct Creation {
    let database: PostgresClient

    static let header = HTTPField.Name("Idempotency-Key")!

    /// Runs `create` and answers 201 with its JSON; with an `Idempotency-Key`, a repeat of the same
    /// request by the same actor replays the first answer instead of creating again.
    func respond(
        to request: Request, body: ByteBuffer, context: AppRequestContext,
        _ create: (PostgresConnection) async throws -> JSONAnswer
    ) async throws -> Response {
        let key = request.headers[Self.header]
        let scope = context.actor.map { "user:\($0.userID)" } ?? "anonymous"
        let fingerprint = IdempotencyStore.fingerprint(
            method: request.method.rawValue, path: request.uri.path, body: body.readableBytesView)
        let answer = try await database.withTransaction { tx in
            if let key {
                if case .replay(let status, let body) = try await IdempotencyStore.claim(
                    scope: scope, key: key, fingerprint: fingerprint, on: tx)
                {
                    return JSONAnswer(replaying: status, body: body)
                }
            }
            let answer = try await create(tx)
            if let key {
                try await IdempotencyStore.record(
                    scope: scope, key: key, status: Int(answer.status.code), body: answer.body, on: tx)
            }
            return answer
        }
        return answer.response
    }
}

extension Request {
    /// The revision named by `If-Match` (`"3"`, `W/"3"` or `3`).
    /// - Parameters:
    ///   - required: whether an edit without it is refused (428).
    /// - Throws: a 428 problem when it is required and missing, 400 when it is not a revision.
    func ifMatchRevision(required: Bool) throws -> Int? {
        guard let value = headers[.ifMatch]?.trimmingCharacters(in: .whitespaces) else {
            if required { throw DomainError.revisionRequired }
            return nil
        }
        var text = Substring(value)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
        guard let revision = Int(text), revision > 0 else {
            throw Problem(
                status: .badRequest, title: "Invalid If-Match", detail: "If-Match must name a revision, such as \"3\".",
                errors: [.init(field: "If-Match", message: "\(value) is not an ETag this server sent")])
        }
        return revision
    }
}

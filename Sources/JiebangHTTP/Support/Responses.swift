import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Jiebang
import Postgres
import StreamingJSON
import Synchronization

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

    init(replaying stored: IdempotencyStore.Stored) {
        self.status = HTTPResponse.Status(code: stored.status)
        self.body = stored.body
        self.location = stored.location
        self.revision = stored.revision
        self.replayed = true
    }

    /// What an Idempotency-Key stores of this answer, for a replay.
    var stored: IdempotencyStore.Stored {
        IdempotencyStore.Stored(status: Int(status.code), body: body, location: location, revision: revision)
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
        // An anonymous caller's keys are its own: scoped by its address, never shared with other callers.
        let scope = context.actor.map { "user:\($0.userID)" } ?? "anonymous:\(context.clientAddress ?? "unknown")"
        let secret = key == nil ? nil : try await FingerprintSecret.shared.key(for: database)
        let answer = try await database.withTransaction { tx in
            if let key, let secret {
                let fingerprint = IdempotencyStore.fingerprint(
                    method: request.method.rawValue, path: request.uri.path, body: body.readableBytesView, secret: secret)
                if case .replay(let stored) = try await IdempotencyStore.claim(
                    scope: scope, key: key, fingerprint: fingerprint, on: tx)
                {
                    return JSONAnswer(replaying: stored)
                }
            }
            let answer = try await create(tx)
            if let key {
                try await IdempotencyStore.record(scope: scope, key: key, answer: answer.stored, on: tx)
            }
            return answer
        }
        return answer.response
    }
}

/// The idempotency fingerprint secret of each database, read once per process (``IdempotencyStore/secret(on:)``).
final class FingerprintSecret: Sendable {
    static let shared = FingerprintSecret()
    private let keys = Mutex<[String: SymmetricKey]>([:])

    /// The secret of `database`'s server, read (or made) on first use; remembered by the database's
    /// connection string and name.
    func key(for database: PostgresClient) async throws -> SymmetricKey {
        let id = database.configuration.connectionString + "\u{0}" + (database.configuration.databaseName ?? "")
        if let known = keys.withLock({ $0[id] }) { return known }
        let key = try await database.withConnection { try await IdempotencyStore.secret(on: $0) }
        keys.withLock { $0[id] = key }
        return key
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
        if text == "*" {
            throw Problem(
                status: .badRequest, title: "Invalid If-Match",
                detail: "If-Match must name the revision you read, such as \"3\": * (any revision) would overwrite another's edit unseen.",
                errors: [.init(field: "If-Match", message: "* is not accepted: send the ETag of the revision you read")])
        }
        guard let revision = Int(text), revision > 0 else {
            throw Problem(
                status: .badRequest, title: "Invalid If-Match", detail: "If-Match must name a revision, such as \"3\".",
                errors: [.init(field: "If-Match", message: "\(value) is not an ETag this server sent")])
        }
        return revision
    }
}

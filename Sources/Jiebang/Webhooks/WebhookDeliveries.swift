public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
public import JobQueue
public import Postgres

/// Deliveries of notifications to webhook endpoints: written with the notifications (one per endpoint,
/// occasion and subject, whichever of the owner's users the notice went to), and POSTed by the
/// `webhook.deliver` job.
///
/// A delivery moves pending → delivered (a 2xx, marked in the job's transaction) or pending → failed
/// (its job's last attempt failed, recorded by the trigger on jobs, definitions/15_webhooks.sql). A
/// worker that dies after the POST and before its commit leaves the delivery pending: the next attempt
/// sends the same delivery id again, and the receiver deduplicates on it.
public enum WebhookDeliveries {
    /// Sends one delivery. 8 attempts, exponential backoff (registered in `Workers/ProductJobs.swift`).
    public struct Deliver: JobArguments {
        public static let kind = "webhook.deliver"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 8) }
        /// The delivery's id (also `Jiebang-Delivery`).
        public var delivery: UUID

        /// Creates the arguments.
        public init(delivery: UUID) { self.delivery = delivery }
    }

    /// The JSON body POSTed to the endpoint.
    public struct Payload: Codable, Sendable, Hashable {
        public var deliveryID: UUID
        public var occasion: String
        public var subject: String
        public var title: String
        public var body: String
        public var link: String?
        public var createdAt: Date
    }

    /// An attempt that did not get a 2xx; the message starts with `HTTP <status>` when the receiver answered.
    public struct AttemptFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// How long one POST may take.
    public static let timeout: TimeInterval = 10

    /// The client the deliveries are enqueued with.
    static let client = JobClient()

    /// Writes one delivery per active endpoint of each notification's recipient's unit or bureau (once per
    /// endpoint, occasion and subject) and enqueues their jobs, in the caller's transaction.
    /// - Returns: the deliveries written.
    @discardableResult
    public static func enqueue(forNotifications ids: [Int], on tx: PostgresConnection) async throws -> [UUID] {
        guard !ids.isEmpty else { return [] }
        let deliveries = try await tx.query(
            """
            INSERT INTO webhook_deliveries (endpoint_id, occasion, subject, title, body, link, created_at)
            SELECT DISTINCT ON (e.id, n.occasion, n.subject) e.id, n.occasion, n.subject, n.title, n.body, n.link, n.created_at
            FROM notifications n
            JOIN users u ON u.id = n.user_id
            JOIN webhook_endpoints e ON e.active AND (
                (u.role IN ('unit_admin', 'unit_member') AND e.unit_id = u.unit_id)
                OR (u.role IN ('provincial_publisher', 'municipal_recommender') AND e.bureau_id = u.bureau_id))
            WHERE n.id = ANY(\(ids)::bigint[])
            ORDER BY e.id, n.occasion, n.subject, n.id
            ON CONFLICT (endpoint_id, occasion, subject) DO NOTHING
            RETURNING id
            """
        ).decode(UUID.self)
        if !deliveries.isEmpty {
            try await client.enqueue(batch: deliveries.map { Deliver(delivery: $0) }, on: tx)
        }
        return deliveries
    }

    /// One attempt at a delivery, in the job's transaction: POSTs it unless it is no longer pending, and marks
    /// it delivered on a 2xx. A deactivated endpoint's delivery fails without a POST. The endpoint's secrets are
    /// opened with `keys` (nil: the database's own key).
    /// - Throws: `AttemptFailed` for any other answer, a timeout or a transport error (the job retries);
    ///   `SecretsKeyError` when a secret does not open (the wrong key), naming the key it was sealed under.
    public static func attempt(_ id: UUID, keys: SecretsKeyring? = nil, now: Date = Date(), on tx: PostgresConnection) async throws {
        guard
            let row = try await tx.query(
                """
                SELECT d.status, d.occasion, d.subject, d.title, d.body, d.link, d.created_at, e.url, e.active, e.secret,
                       CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END
                FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                WHERE d.id = \(id)
                FOR NO KEY UPDATE OF d
                """
            ).first
        else { return }
        guard try row.decode(String.self, at: 0) == "pending" else { return }
        guard try row.decode(Bool.self, at: 8) else {
            try await tx.execute(
                """
                UPDATE webhook_deliveries SET status = 'failed', last_error = 'the endpoint was deactivated', last_attempt_at = now()
                WHERE id = \(id)
                """)
            return
        }
        let payload = Payload(
            deliveryID: id, occasion: try row.decode(String.self, at: 1), subject: try row.decode(String.self, at: 2),
            title: try row.decode(String.self, at: 3), body: try row.decode(String.self, at: 4),
            link: try row.decode(String?.self, at: 5), createdAt: try row.decode(Date.self, at: 6))
        let url = try row.decode(String.self, at: 7)
        let keys = try await SecretsKeyring.resolved(keys, on: tx)
        let sealed = [try row.decode(String.self, at: 9)] + [try row.decode(String?.self, at: 10)].compactMap { $0 }
        let secrets = try sealed.map { stored throws(SecretsKeyError) in try keys.open(stored) }
        let body = try encoder.encode(payload)
        let signature = WebhookSignature.header(secrets: secrets, timestamp: Int(now.timeIntervalSince1970), body: body)
        let status = try await post(body, to: url, delivery: id, signature: signature)
        guard (200..<300).contains(status) else { throw AttemptFailed(description: "HTTP \(status)") }
        try await tx.execute(
            """
            UPDATE webhook_deliveries
            SET status = 'delivered', attempts = attempts + 1, last_status = \(status), last_error = NULL,
                last_attempt_at = now(), delivered_at = now()
            WHERE id = \(id)
            """)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// POSTs `body` and returns the status, within `timeout`; a redirect is not followed (its 3xx is the answer).
    private static func post(_ body: Data, to url: String, delivery: UUID, signature: String) async throws -> Int {
        guard let target = URL(string: url) else { throw AttemptFailed(description: "the URL does not parse") }
        var request = URLRequest(url: target, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(delivery.uuidString, forHTTPHeaderField: "Jiebang-Delivery")
        request.setValue(signature, forHTTPHeaderField: "Jiebang-Signature")
        request.setValue("jiebang-webhooks/1", forHTTPHeaderField: "User-Agent")
        do {
            let (_, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw AttemptFailed(description: "not an HTTP answer") }
            return http.statusCode
        } catch let error as AttemptFailed {
            throw error
        } catch let error as URLError where error.code == .timedOut {
            throw AttemptFailed(description: "timed out after \(Int(timeout)) s")
        } catch {
            throw AttemptFailed(description: "no answer: \(error.localizedDescription)")
        }
    }

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        return URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }()

    /// Answers a redirect as the delivery's result (a failed attempt) instead of following it to another URL.
    private final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }
    }
}

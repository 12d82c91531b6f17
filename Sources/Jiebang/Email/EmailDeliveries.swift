public import Foundation
public import JobQueue
public import Postgres
public import SMTP

/// E-mails of notifications: written with the notifications (one per notification whose recipient has an
/// address), and sent by the `email.send` job through the configured SMTP server (`SMTPClient`).
///
/// A message moves pending → sent (the server accepted it, marked in the job's transaction) or pending →
/// failed: at once when the server refuses its recipient or content with a 5xx, or when no server is
/// configured; after its job's last attempt for anything transient (recorded by the trigger on jobs,
/// definitions/16_email.sql). A worker that dies after the server accepted the message and before its
/// commit leaves it pending, and the next attempt sends it again with the same `Message-ID`.
public enum EmailDeliveries {
    /// Sends one message. 10 attempts, exponential backoff (registered in `Workers/ProductJobs.swift`).
    public struct Send: JobArguments {
        public static let kind = "email.send"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 10) }
        /// The message's id (also the local part of its `Message-ID`).
        public var message: UUID

        /// Creates the arguments.
        public init(message: UUID) { self.message = message }
    }

    /// One message of the operators' log.
    public struct Message: Codable, Sendable, Hashable {
        public var id: UUID
        public var notificationID: Int
        public var userID: Int
        public var address: String
        public var occasion: String
        public var subject: String
        /// pending, sent or failed.
        public var status: String
        public var attempts: Int
        /// The server's last reply code to a failed attempt.
        public var lastReplyCode: Int?
        public var lastError: String?
        public var lastAttemptAt: Date?
        public var sentAt: Date?
        public var createdAt: Date
    }

    /// A page of the log, newest notification first; `next` is the `before` of the following page.
    public struct Page: Codable, Sendable, Hashable {
        public var items: [Message]
        public var next: Int?
    }

    /// What an attempt did.
    public enum Outcome: Sendable, Hashable {
        /// The server accepted the message.
        case sent
        /// The message was refused for good (or no server is configured) and is marked failed.
        case failed(String)
        /// The message was not pending any more (sent or failed by an earlier attempt).
        case skipped
    }

    /// The client the messages are enqueued with.
    static let client = JobClient()

    /// Writes one message per notification whose recipient is active and has an address, and enqueues
    /// their jobs, in the caller's transaction.
    /// - Returns: the messages written.
    @discardableResult
    public static func enqueue(forNotifications ids: [Int], on tx: PostgresConnection) async throws -> [UUID] {
        guard !ids.isEmpty else { return [] }
        let messages = try await tx.query(
            """
            INSERT INTO email_messages (notification_id, address, created_at)
            SELECT n.id, u.email, n.created_at
            FROM notifications n JOIN users u ON u.id = n.user_id
            WHERE n.id = ANY(\(ids)::bigint[]) AND u.email IS NOT NULL AND u.disabled_at IS NULL
            ORDER BY n.id
            ON CONFLICT (notification_id) DO NOTHING
            RETURNING id
            """
        ).decode(UUID.self)
        if !messages.isEmpty {
            try await client.enqueue(batch: messages.map { Send(message: $0) }, on: tx)
        }
        return messages
    }

    /// One attempt at a message, in the job's transaction.
    /// - Parameter smtp: the server to send through; nil (no `SMTP_URL`) marks the message failed without retrying.
    /// - Throws: the `SMTPError` of a transient failure (the job retries with backoff).
    @discardableResult
    public static func attempt(_ id: UUID, smtp: SMTPConfiguration?, on tx: PostgresConnection) async throws -> Outcome {
        guard
            let row = try await tx.query(
                """
                SELECT m.status, m.address, n.occasion, n.title, n.body, n.link, n.created_at
                FROM email_messages m JOIN notifications n ON n.id = m.notification_id
                WHERE m.id = \(id)
                FOR NO KEY UPDATE OF m
                """
            ).first
        else { return .skipped }
        guard try row.decode(String.self, at: 0) == "pending" else { return .skipped }
        guard let smtp else {
            return try await fail(id, code: nil, error: "no SMTP server is configured (set SMTP_URL and MAIL_FROM)", on: tx)
        }
        let addressText = try row.decode(String.self, at: 1)
        if let problem = MailAddress.problem(addressText) {
            return try await fail(id, code: nil, error: "the address is refused: \(problem)", on: tx)
        }
        let address = try MailAddress(addressText)
        let domain = smtp.sender.address.split(separator: "@").last.map(String.init) ?? "jiebang.invalid"
        let message = MailMessage(
            from: smtp.sender, to: address, subject: try row.decode(String.self, at: 3),
            text: text(body: try row.decode(String.self, at: 4), link: try row.decode(String?.self, at: 5)),
            messageID: "\(id.uuidString.lowercased())@\(domain)", date: try row.decode(Date.self, at: 6),
            headers: [
                .init("Auto-Submitted", "auto-generated"), .init("X-Auto-Response-Suppress", "All"),
                .init("X-Jiebang-Occasion", try row.decode(String.self, at: 2)),
            ])
        if let refusal = try await send(message, smtp) {
            return try await fail(id, code: refusal.reply?.code, error: refusal.description, on: tx)
        }
        try await tx.execute(
            """
            UPDATE email_messages
            SET status = 'sent', attempts = attempts + 1, last_error = NULL, last_attempt_at = now(), sent_at = now()
            WHERE id = \(id)
            """)
        return .sent
    }

    /// The log for operators (system admins), newest notification first, optionally of one status, below the
    /// cursor `before` (a notification id).
    public static func log(
        status: String?, before: Int?, limit: Int = 100, by actor: Actor, on db: PostgresConnection
    ) async throws -> Page {
        try AccessPolicy.require(actor, [.systemAdmin], to: "read the e-mail log")
        if let status, !["pending", "sent", "failed"].contains(status) {
            throw DomainError.invalid("status", "must be pending, sent or failed")
        }
        let rows = try await db.query(
            """
            SELECT m.id, m.notification_id, n.user_id, m.address, n.occasion, n.subject, m.status, m.attempts,
                   m.last_reply_code, m.last_error, m.last_attempt_at, m.sent_at, m.created_at
            FROM email_messages m JOIN notifications n ON n.id = m.notification_id
            WHERE (\(status)::text IS NULL OR m.status = \(status)) AND (\(before)::bigint IS NULL OR m.notification_id < \(before))
            ORDER BY m.notification_id DESC
            LIMIT \(limit + 1)
            """)
        let items = try rows.map { row in
            Message(
                id: try row.decode(UUID.self, at: 0), notificationID: try row.decode(Int.self, at: 1),
                userID: try row.decode(Int.self, at: 2), address: try row.decode(String.self, at: 3),
                occasion: try row.decode(String.self, at: 4), subject: try row.decode(String.self, at: 5),
                status: try row.decode(String.self, at: 6), attempts: try row.decode(Int.self, at: 7),
                lastReplyCode: try row.decode(Int?.self, at: 8), lastError: try row.decode(String?.self, at: 9),
                lastAttemptAt: try row.decode(Date?.self, at: 10), sentAt: try row.decode(Date?.self, at: 11),
                createdAt: try row.decode(Date.self, at: 12))
        }
        return items.count > limit
            ? Page(items: Array(items.prefix(limit)), next: items[limit - 1].notificationID) : Page(items: items, next: nil)
    }

    /// The text of a message: the notification's body, what it is about, and the footer (`email_footer.txt`).
    static func text(body: String, link: String?) -> String {
        var text = body
        if let link, !link.isEmpty { text += "\n\n相关事项：\(link)" }
        return text + "\n\n" + String(decoding: PackageResources.email_footer_txt, as: UTF8.self)
    }

    /// Sends `message`.
    /// - Returns: the server's permanent refusal, or nil when it accepted the message.
    /// - Throws: a transient `SMTPError`.
    private static func send(_ message: MailMessage, _ smtp: SMTPConfiguration) async throws(SMTPError) -> SMTPError? {
        do {
            try await SMTPClient.send(message, configuration: smtp)
            return nil
        } catch {
            guard error.kind == .permanent else { throw error }
            return error
        }
    }

    private static func fail(_ id: UUID, code: Int?, error: String, on tx: PostgresConnection) async throws -> Outcome {
        try await tx.execute(
            """
            UPDATE email_messages
            SET status = 'failed', attempts = attempts + 1, last_reply_code = \(code), last_error = left(\(error), 2000),
                last_attempt_at = now()
            WHERE id = \(id)
            """)
        return .failed(error)
    }
}

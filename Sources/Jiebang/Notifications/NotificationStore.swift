public import Foundation
public import Postgres

/// The in-app inbox: notifications are written in the transaction of the event that causes them (a
/// rolled-back event notifies nobody), once per (recipient, occasion, subject), and read by their
/// recipient only.
public enum NotificationStore {
    /// One notification as its recipient sees it.
    public struct Notification: Codable, Sendable, Hashable {
        public var id: Int
        public var occasion: String
        /// What it is about, for example `challenge:12`.
        public var subject: String
        public var title: String
        public var body: String
        /// The API path of what it is about, if any.
        public var link: String?
        public var mandatory: Bool
        public var createdAt: Date
        public var readAt: Date?
    }

    /// A page of the inbox, newest first; `next` is the `before` of the following page.
    public struct Page: Codable, Sendable, Hashable {
        public var items: [Notification]
        public var next: Int?
    }

    /// One message to one user.
    public struct Message: Sendable, Hashable {
        public var userID: Int
        public var occasion: Occasion
        public var subject: String
        public var title: String
        public var body: String
        public var link: String?

        /// Creates a message.
        public init(userID: Int, occasion: Occasion, subject: String, title: String, body: String, link: String?) {
            self.userID = userID
            self.occasion = occasion
            self.subject = subject
            self.title = title
            self.body = body
            self.link = link
        }
    }

    /// Writes `messages`, skipping any (user, occasion, subject) already sent and any the user muted, and
    /// the webhook deliveries and e-mails of the notifications written (`WebhookDeliveries`, `EmailDeliveries`).
    /// - Returns: how many were written.
    @discardableResult
    public static func send(_ messages: [Message], on tx: PostgresConnection) async throws -> Int {
        guard !messages.isEmpty else { return 0 }
        let written = try await tx.query(
            """
            INSERT INTO notifications (user_id, occasion, subject, title, body, link)
            SELECT u, o, s, t, b, NULLIF(l, '')
            FROM unnest(\(messages.map(\.userID))::bigint[], \(messages.map(\.occasion.rawValue))::text[],
                        \(messages.map(\.subject))::text[], \(messages.map(\.title))::text[],
                        \(messages.map(\.body))::text[], \(messages.map { $0.link ?? "" })::text[]) AS m (u, o, s, t, b, l)
            ON CONFLICT (user_id, occasion, subject) DO NOTHING
            RETURNING id
            """
        ).decode(Int.self)
        try await WebhookDeliveries.enqueue(forNotifications: written, on: tx)
        try await EmailDeliveries.enqueue(forNotifications: written, on: tx)
        return written.count
    }

    /// Tells every active user of a unit (its admins and members), rendering the occasion's template.
    /// - Returns: how many were written.
    @discardableResult
    public static func notifyUnit(
        _ unitID: Int, _ occasion: Occasion, subject: String, values: [String: String], link: String?,
        on tx: PostgresConnection
    ) async throws -> Int {
        let (title, body) = try NotificationTemplate.of(occasion).render(values)
        let users = try await tx.query(
            """
            SELECT id FROM users
            WHERE unit_id = \(unitID) AND role IN ('unit_admin', 'unit_member') AND disabled_at IS NULL
            ORDER BY id
            """
        ).decode(Int.self)
        return try await send(
            users.map { Message(userID: $0, occasion: occasion, subject: subject, title: title, body: body, link: link) }, on: tx)
    }

    /// The actor's notifications, newest first, after the cursor `before` (a notification id).
    public static func inbox(
        for userID: Int, before: Int?, limit: Int, unreadOnly: Bool, on db: PostgresConnection
    ) async throws -> Page {
        let rows = try await db.query(
            """
            SELECT n.id, n.occasion, n.subject, n.title, n.body, n.link, o.mandatory, n.created_at, n.read_at
            FROM notifications n JOIN notification_occasions o ON o.occasion = n.occasion
            WHERE n.user_id = \(userID) AND n.id < \(before ?? Int.max) AND (NOT \(unreadOnly) OR n.read_at IS NULL)
            ORDER BY n.id DESC
            LIMIT \(limit + 1)
            """)
        var items = try rows.map(decode)
        var next: Int?
        if items.count > limit {
            items.removeLast()
            next = items.last?.id
        }
        return Page(items: items, next: next)
    }

    /// How many of the user's notifications are unread.
    public static func unreadCount(for userID: Int, on db: PostgresConnection) async throws -> Int {
        try await db.query("SELECT count(*) FROM notifications WHERE user_id = \(userID) AND read_at IS NULL")
            .first?.decode(Int.self) ?? 0
    }

    /// Marks one of the user's notifications read (again: no change).
    /// - Throws: `DomainError.notFound` if it is not theirs.
    public static func markRead(id: Int, for userID: Int, on tx: PostgresConnection) async throws -> Notification {
        try await tx.execute(
            "UPDATE notifications SET read_at = now() WHERE id = \(id) AND user_id = \(userID) AND read_at IS NULL")
        let rows = try await tx.query(
            """
            SELECT n.id, n.occasion, n.subject, n.title, n.body, n.link, o.mandatory, n.created_at, n.read_at
            FROM notifications n JOIN notification_occasions o ON o.occasion = n.occasion
            WHERE n.id = \(id) AND n.user_id = \(userID)
            """)
        guard let row = rows.first else { throw DomainError.notFound("you have no notification \(id)") }
        return try decode(row)
    }

    /// Mutes an optional occasion for the user (again: no change).
    /// - Throws: `DomainError.notFound` for an unknown occasion, `.conflict` for a mandatory one.
    public static func mute(_ occasionName: String, for userID: Int, on tx: PostgresConnection) async throws {
        let occasion = try known(occasionName)
        guard !occasion.isMandatory else {
            throw DomainError.conflict(field: "occasion", message: "\(occasion.rawValue) is mandatory and cannot be muted")
        }
        _ = try await ConstraintCatalog.translating {
            try await tx.execute(
                "INSERT INTO notification_mutes (user_id, occasion) VALUES (\(userID), \(occasion.rawValue)) ON CONFLICT DO NOTHING")
        }
    }

    /// Unmutes an occasion for the user (again: no change).
    /// - Throws: `DomainError.notFound` for an unknown occasion.
    public static func unmute(_ occasionName: String, for userID: Int, on tx: PostgresConnection) async throws {
        let occasion = try known(occasionName)
        try await tx.execute("DELETE FROM notification_mutes WHERE user_id = \(userID) AND occasion = \(occasion.rawValue)")
    }

    /// The occasions the user muted.
    public static func mutes(for userID: Int, on db: PostgresConnection) async throws -> [String] {
        try await db.query("SELECT occasion FROM notification_mutes WHERE user_id = \(userID) ORDER BY occasion").decode(String.self)
    }

    private static func known(_ name: String) throws -> Occasion {
        guard let occasion = Occasion(rawValue: name) else {
            throw DomainError.notFound(
                "there is no occasion \(name); the occasions are \(Occasion.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return occasion
    }

    private static func decode(_ row: PostgresRow) throws -> Notification {
        Notification(
            id: try row.decode(Int.self, at: 0), occasion: try row.decode(String.self, at: 1),
            subject: try row.decode(String.self, at: 2), title: try row.decode(String.self, at: 3),
            body: try row.decode(String.self, at: 4), link: try row.decode(String?.self, at: 5),
            mandatory: try row.decode(Bool.self, at: 6), createdAt: try row.decode(Date.self, at: 7),
            readAt: try row.decode(Date?.self, at: 8))
    }
}

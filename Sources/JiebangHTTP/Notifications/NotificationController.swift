import Hummingbird
import Jiebang
import Postgres

/// The signed-in user's inbox: notifications newest first, the unread count, read marks and mutes of
/// optional occasions. Nobody reads another's notifications.
struct NotificationController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("v1/notifications", use: list)
        router.get("v1/notifications/unread-count", use: unreadCount)
        router.post("v1/notifications/:id/read", use: markRead)
        router.get("v1/notifications/mutes", use: mutes)
        router.put("v1/notifications/mutes/:occasion", use: mute)
        router.delete("v1/notifications/mutes/:occasion", use: unmute)
        router.get("v1/email-messages", use: emailLog)
    }

    /// The e-mail log for operators (system admins): newest first, `?status=pending|sent|failed`, `?before=`.
    @Sendable func emailLog(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var query = QueryReader(request)
        let before = query.positive("before")
        let limit = query.limit(default: 100, maximum: 500)
        let status = query.oneOf("status", { ["pending", "sent", "failed"].contains($0) ? $0 : nil }, expected: ["pending", "sent", "failed"])
        try query.check()
        let page = try await database.withConnection {
            try await EmailDeliveries.log(status: status, before: before, limit: limit, by: actor, on: $0)
        }
        return try JSONAnswer(page, context: context).response
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var query = QueryReader(request)
        let before = query.positive("before")
        let limit = query.limit(default: 50, maximum: 200)
        let unread = query.oneOf("unread", { ["true": true, "false": false][$0] }, expected: ["true", "false"]) ?? false
        try query.check()
        let page = try await database.withConnection {
            try await NotificationStore.inbox(for: actor.userID, before: before, limit: limit, unreadOnly: unread, on: $0)
        }
        return try JSONAnswer(page, context: context).response
    }

    struct UnreadCount: Encodable {
        var unread: Int
    }

    @Sendable func unreadCount(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let count = try await database.withConnection { try await NotificationStore.unreadCount(for: actor.userID, on: $0) }
        return try JSONAnswer(UnreadCount(unread: count), context: context).response
    }

    @Sendable func markRead(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let notification = try await database.withTransaction {
            try await NotificationStore.markRead(id: id, for: actor.userID, on: $0)
        }
        return try JSONAnswer(notification, context: context).response
    }

    struct Mutes: Encodable {
        var occasions: [String]
    }

    @Sendable func mutes(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let occasions = try await database.withConnection { try await NotificationStore.mutes(for: actor.userID, on: $0) }
        return try JSONAnswer(Mutes(occasions: occasions), context: context).response
    }

    @Sendable func mute(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let occasion = context.parameters.get("occasion") ?? ""
        try await database.withTransaction { try await NotificationStore.mute(occasion, for: actor.userID, on: $0) }
        return Response(status: .noContent)
    }

    @Sendable func unmute(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let occasion = context.parameters.get("occasion") ?? ""
        try await database.withTransaction { try await NotificationStore.unmute(occasion, for: actor.userID, on: $0) }
        return Response(status: .noContent)
    }
}

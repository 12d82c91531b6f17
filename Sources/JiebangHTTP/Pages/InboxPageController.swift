import Foundation
import Hummingbird
import Jiebang
import Postgres

/// The inbox of whoever is signed in (`/inbox`): their notifications, newest first, the unread ones marked
/// and counted, each marked read with one button. It reads `NotificationStore`, as the API does: only the
/// person's own notifications.
struct InboxPageController {
    let database: PostgresClient
    let renderer: PageRenderer

    init(database: PostgresClient, renderer: PageRenderer = .shared) {
        self.database = database
        self.renderer = renderer
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("inbox", use: inbox)
        router.post("inbox/:id/read", use: markRead)
    }

    static let pageSize = 50

    struct Item: Sendable {
        var id: Int
        var title: String
        var body: [String]
        var link: String?
        var createdAt: String
        var unread: Bool
    }

    struct InboxView: SessionPageView, Sendable {
        var session: PageSessionView? = nil
        var unread: Int
        var items: [Item]
        var hasItems: Bool
        var nextURL: String?
        var csrf: String
    }

    /// The page of what a notification's API link names, for the person's role (a bid for a unit's people).
    static func pageLink(_ link: String?, role: Role) -> String? {
        guard let link, link.hasPrefix("/v1/bids/"), UnitPageController.roles.contains(role) else { return nil }
        let id = link.dropFirst("/v1/bids/".count)
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else { return nil }
        return "/unit/bids/\(id)"
    }

    @Sendable func inbox(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let actor = context.actor else { throw PageMiddleware.signInRequired(returningTo: request.uri.path) }
        let before = request.uri.queryParameters["before"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        let (page, unread) = try await database.withConnection { db in
            (
                try await NotificationStore.inbox(for: actor.userID, before: before, limit: Self.pageSize, unreadOnly: false, on: db),
                try await NotificationStore.unreadCount(for: actor.userID, on: db)
            )
        }
        let view = InboxView(
            unread: unread,
            items: page.items.map {
                Item(
                    id: $0.id, title: $0.title, body: $0.body.split(whereSeparator: \.isNewline).map(String.init),
                    link: Self.pageLink($0.link, role: actor.role), createdAt: PageFormat.dateTime($0.createdAt), unread: $0.readAt == nil)
            }, hasItems: !page.items.isEmpty, nextURL: page.next.map { "/inbox?before=\($0)" },
            csrf: context.token.map(PageSession.csrf) ?? "")
        return renderer.response("inbox", view, context: context)
    }

    @Sendable func markRead(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let actor = context.actor else { throw PageMiddleware.signInRequired(returningTo: "/inbox") }
        let id = try PublicPageController.pathID(context)
        let form = try await PageForm.read(request)
        try form.requireCSRF(context.token.map(PageSession.csrf))
        do {
            _ = try await database.withTransaction { try await NotificationStore.markRead(id: id, for: actor.userID, on: $0) }
        } catch DomainError.notFound {
            throw Problem(status: .notFound, detail: "没有这条消息。")
        }
        return .redirect(to: "/inbox#n-\(id)", type: .normal)
    }
}

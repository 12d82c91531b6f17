import Hummingbird
import Jiebang
import Postgres

/// Webhook endpoints of the signed-in person's unit (a unit admin) or bureau (a publisher or
/// recommender): register (the secret is answered once), list, deactivate, rotate the secret, and read
/// the delivery log.
struct WebhookController {
    let database: PostgresClient
    /// The keys new secrets are sealed under (nil: the database's own key).
    let keys: SecretsKeyring?

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/webhooks", use: register)
        router.get("v1/webhooks", use: list)
        router.delete("v1/webhooks/:id", use: deactivate)
        router.post("v1/webhooks/:id/secret", use: rotate)
        router.get("v1/webhooks/:id/deliveries", use: deliveries)
    }

    struct EndpointList: Encodable {
        var items: [WebhookStore.Endpoint]
    }

    struct DeliveryList: Encodable {
        var items: [WebhookStore.Delivery]
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.unitAdmin, .provincialPublisher, .municipalRecommender], to: "register webhooks")
        var request = request
        let (input, _) = try await request.decodeJSON(WebhookStore.Input.self, context: context)
        let created = try await database.withTransaction { try await WebhookStore.register(input, by: actor, keys: keys, on: $0) }
        return try JSONAnswer(created, status: .created, location: "/v1/webhooks/\(created.endpoint.id)", context: context).response
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.unitAdmin, .provincialPublisher, .municipalRecommender], to: "read webhooks")
        let items = try await database.withConnection { try await WebhookStore.list(by: actor, on: $0) }
        return try JSONAnswer(EndpointList(items: items), context: context).response
    }

    @Sendable func deactivate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.unitAdmin, .provincialPublisher, .municipalRecommender], to: "deactivate webhooks")
        let id = try context.id()
        try await database.withTransaction { try await WebhookStore.deactivate(id: id, by: actor, on: $0) }
        return Response(status: .noContent)
    }

    @Sendable func rotate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.unitAdmin, .provincialPublisher, .municipalRecommender], to: "rotate webhook secrets")
        let id = try context.id()
        let created = try await database.withTransaction { try await WebhookStore.rotate(id: id, by: actor, keys: keys, on: $0) }
        return try JSONAnswer(created, context: context).response
    }

    @Sendable func deliveries(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.unitAdmin, .provincialPublisher, .municipalRecommender], to: "read webhook deliveries")
        let id = try context.id()
        let items = try await database.withConnection { try await WebhookStore.deliveries(endpointID: id, by: actor, on: $0) }
        return try JSONAnswer(DeliveryList(items: items), context: context).response
    }
}

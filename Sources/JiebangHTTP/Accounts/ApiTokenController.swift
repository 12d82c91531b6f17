import Hummingbird
import Jiebang
import Postgres

/// The signed-in person's API tokens: created with scopes (the secret shown once), listed, revoked.
struct ApiTokenController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/me/tokens", use: create)
        router.get("v1/me/tokens", use: list)
        router.delete("v1/me/tokens/:id", use: revoke)
    }

    struct TokenList: Encodable {
        var items: [ApiTokenStore.Token]
    }

    /// Creates a token and answers 201 with its secret, which is not stored and not shown again. It is not
    /// replayed under an Idempotency-Key either, so that no copy of the secret is kept.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var request = request
        let (input, _) = try await request.decodeJSON(ApiTokenStore.Input.self, context: context)
        let created = try await database.withTransaction { try await ApiTokenStore.create(input, for: actor, on: $0) }
        return try JSONAnswer(created, status: .created, context: context).response
    }

    /// The person's API tokens, without secrets.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let items = try await database.withConnection { try await ApiTokenStore.list(for: actor, on: $0) }
        return try JSONAnswer(TokenList(items: items), context: context).response
    }

    /// Revokes one of the person's API tokens: 204, also when it was revoked already.
    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        try await database.withTransaction { try await ApiTokenStore.revoke(id: id, by: actor, on: $0) }
        return Response(status: .noContent)
    }
}

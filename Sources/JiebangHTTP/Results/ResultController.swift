import Hummingbird
import Jiebang
import Postgres

/// The result pool: results filed by universities and institutes (or a bureau for them), and accepted projects'.
struct ResultController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/results", use: file)
        router.get("v1/results", use: list)
        router.get("v1/results/:id", use: show)
        router.get("v1/results/:id/matches", use: matches)
    }

    /// The open demands the result could serve, best first, with their reasons.
    @Sendable func matches(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let items = try await database.withConnection { try await PoolMatching.forResult(id: id, for: actor, on: $0) }
        return try JSONAnswer(DemandController.MatchList(items: items), context: context).response
    }

    struct PageView: Encodable {
        var items: [ResultFiling.Result]
        /// The `before` of the next page, if there is one.
        var next: Int?
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(
            actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher], to: "file a result")
        var request = request
        let (input, body) = try await request.decodeJSON(ResultFiling.Input.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let result = try await ResultFiling.file(input, by: actor, on: tx)
            return try JSONAnswer(result, status: .created, location: "/v1/results/\(result.id)", context: context)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var query = QueryReader(request)
        let before = query.positive("before")
        let limit = query.limit(default: 50, maximum: 200)
        try query.check()
        let items = try await database.withConnection {
            try await ResultFiling.list(beforeID: before, limit: limit + 1, for: actor, on: $0)
        }
        let page = PageView(items: Array(items.prefix(limit)), next: items.count > limit ? items[limit - 1].id : nil)
        return try JSONAnswer(page, context: context).response
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let result = try await database.withConnection { try await ResultFiling.result(id: id, for: actor, on: $0) }
        return try JSONAnswer(result, revision: result.revision, context: context).response
    }
}

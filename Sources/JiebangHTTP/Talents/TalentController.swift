import Hummingbird
import Jiebang
import Postgres

/// The talent pool: people filed by their unit (or a bureau for it), read and changed within the unit's scope.
struct TalentController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/talents", use: file)
        router.get("v1/talents", use: list)
        router.get("v1/talents/:id", use: show)
        router.put("v1/talents/:id", use: change)
        router.get("v1/talents/:id/matches", use: matches)
    }

    /// The open demands a result or a talent could serve.
    struct MatchList: Encodable {
        var items: [PoolMatching.Suggestion]
    }

    /// The open demands the person could serve, best first, with their reasons.
    @Sendable func matches(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let items = try await database.withConnection { try await PoolMatching.forTalent(id: id, for: actor, on: $0) }
        return try JSONAnswer(MatchList(items: items), context: context).response
    }

    struct PageView: Encodable {
        var items: [TalentFiling.Talent]
        /// The `before` of the next page, if there is one.
        var next: Int?
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(
            actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher], to: "file a talent")
        var request = request
        let (input, body) = try await request.decodeJSON(TalentFiling.Input.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let talent = try await TalentFiling.file(input, by: actor, on: tx)
            return try JSONAnswer(
                talent, status: .created, revision: talent.revision, location: "/v1/talents/\(talent.id)", context: context)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var query = QueryReader(request)
        let before = query.positive("before")
        let limit = query.limit(default: 50, maximum: 200)
        try query.check()
        let items = try await database.withConnection {
            try await TalentFiling.list(beforeID: before, limit: limit + 1, for: actor, on: $0)
        }
        let page = PageView(items: Array(items.prefix(limit)), next: items.count > limit ? items[limit - 1].id : nil)
        return try JSONAnswer(page, context: context).response
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let talent = try await database.withConnection { try await TalentFiling.talent(id: id, for: actor, on: $0) }
        return try JSONAnswer(talent, revision: talent.revision, context: context).response
    }

    /// Its unit (or a bureau that may file for it) replaces the person's record (`If-Match` required).
    @Sendable func change(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let revision = try request.ifMatchRevision(required: true)!
        var request = request
        let (input, _) = try await request.decodeJSON(TalentFiling.Input.self, context: context)
        let talent = try await database.withTransaction {
            try await TalentFiling.change(id: id, input, ifRevision: revision, by: actor, on: $0)
        }
        return try JSONAnswer(talent, revision: talent.revision, context: context).response
    }
}

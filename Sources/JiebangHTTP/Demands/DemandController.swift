import Hummingbird
import Jiebang
import Postgres

/// Demands: filed by a unit (or a bureau on its behalf), read within the reader's scope.
struct DemandController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/demands", use: file)
        router.get("v1/demands", use: list)
        router.get("v1/demands/:id", use: show)
        router.put("v1/demands/:id", use: change)
        router.post("v1/demands/:id/confirm", use: confirm)
        router.post("v1/demands/:id/close", use: close)
        router.get("v1/demands/:id/matches", use: matches)
        router.post("v1/demands/:id/challenge", use: draftChallenge)
    }

    struct MatchList: Encodable {
        /// The results.
        var items: [PoolMatching.Suggestion]
        /// The people (talents).
        var talents: [PoolMatching.Suggestion]
    }

    /// The results and the people that could serve the demand, best first, with their reasons.
    @Sendable func matches(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let (items, talents) = try await database.withConnection { db in
            (
                try await PoolMatching.forDemand(id: id, for: actor, on: db),
                try await PoolMatching.talentsForDemand(id: id, for: actor, on: db)
            )
        }
        return try JSONAnswer(MatchList(items: items, talents: talents), context: context).response
    }

    /// A bureau turns the demand into a draft challenge in one step, its candidate results listed in the content.
    @Sendable func draftChallenge(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "draft a challenge")
        let id = try context.id()
        var request = request
        let (draft, body) = try await request.decodeJSON(ChallengeDrafting.DemandDraft.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let challenge = try await ChallengeDrafting.create(fromDemand: id, draft, by: actor, on: tx)
            return try JSONAnswer(
                challenge, status: .created, revision: challenge.revision, location: "/v1/challenges/\(challenge.id)",
                context: context)
        }
    }

    struct PageView: Encodable {
        var items: [DemandFiling.Demand]
        /// The `before` of the next page, if there is one.
        var next: Int?
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(
            actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher], to: "file a demand")
        var request = request
        let (input, body) = try await request.decodeJSON(DemandFiling.Input.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let demand = try await DemandFiling.file(input, by: actor, on: tx)
            return try JSONAnswer(demand, status: .created, location: "/v1/demands/\(demand.id)", context: context)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var query = QueryReader(request)
        let programmeID = query.positive("programmeID")
        let before = query.positive("before")
        let limit = query.limit(default: 50, maximum: 200)
        try query.check()
        let items = try await database.withConnection {
            try await DemandFiling.list(programmeID: programmeID, beforeID: before, limit: limit + 1, for: actor, on: $0)
        }
        let page = PageView(items: Array(items.prefix(limit)), next: items.count > limit ? items[limit - 1].id : nil)
        return try JSONAnswer(page, context: context).response
    }

    /// The unit changes its demand's text (`If-Match` required), which confirms it too.
    @Sendable func change(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let revision = try request.ifMatchRevision(required: true)!
        var request = request
        let (change, _) = try await request.decodeJSON(DemandRefresh.Change.self, context: context)
        let demand = try await database.withTransaction {
            try await DemandRefresh.change(id: id, change, ifRevision: revision, by: actor, on: $0)
        }
        return try JSONAnswer(demand, revision: demand.revision, context: context).response
    }

    /// The half-yearly refresh: the demand still stands (a lapsed one opens again).
    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let demand = try await database.withTransaction { try await DemandRefresh.confirm(id: id, by: actor, on: $0) }
        return try JSONAnswer(demand, revision: demand.revision, context: context).response
    }

    /// The demand is solved or no longer needed: closed for good.
    @Sendable func close(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let demand = try await database.withTransaction { try await DemandRefresh.close(id: id, by: actor, on: $0) }
        return try JSONAnswer(demand, revision: demand.revision, context: context).response
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let demand = try await database.withConnection { try await DemandFiling.demand(id: id, for: actor, on: $0) }
        return try JSONAnswer(demand, revision: demand.revision, context: context).response
    }
}

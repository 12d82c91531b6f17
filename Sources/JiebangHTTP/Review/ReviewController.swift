import Hummingbird
import Jiebang
import Postgres

/// Review rounds for the programme's publisher (start, draw, read draws and seats) and review
/// assignments for experts (their own only, and recusal). Units reach none of it.
struct ReviewController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/review-rounds", use: create)
        router.get("v1/review-rounds", use: list)
        router.get("v1/review-rounds/:id", use: show)
        router.post("v1/review-rounds/:id/draws", use: requestDraw)
        router.get("v1/review-rounds/:id/draws", use: draws)
        router.get("v1/review-rounds/:id/draws/:number", use: draw)
        router.get("v1/review-rounds/:id/seats", use: seats)
        router.get("v1/expert/assignments", use: assignments)
        router.post("v1/expert/assignments/:id/recusal", use: recuse)
    }

    struct DrawRequest: Decodable {
        var dryRun: Bool?
    }

    struct Recusal: Decodable {
        var reason: String
    }

    struct Items<Item: Encodable>: Encodable {
        var items: [Item]
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "start review rounds")
        var request = request
        let (input, body) = try await request.decodeJSON(ReviewRound.Input.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let round = try await ReviewRoundStore.create(input, by: actor, on: tx)
            return try JSONAnswer(round, status: .created, revision: round.revision, location: "/v1/review-rounds/\(round.id)", context: context)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "read review rounds")
        var query = QueryReader(request)
        let programmeID = query.positive("programmeID")
        try query.check()
        guard let programmeID else { throw DomainError.invalid("programmeID", "is required") }
        let rounds = try await database.withConnection { try await ReviewRoundStore.list(programmeID: programmeID, by: actor, on: $0) }
        return try JSONAnswer(Items(items: rounds), context: context).response
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let round = try await database.withConnection { try await ReviewRoundStore.round(id: id, by: actor, on: $0) }
        return try JSONAnswer(round, revision: round.revision, context: context).response
    }

    @Sendable func requestDraw(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "draw review panels")
        let id = try context.id()
        var request = request
        let (input, _) = try await request.decodeJSON(DrawRequest.self, context: context)
        let record = try await database.withTransaction {
            try await ReviewRoundStore.requestDraw(roundID: id, dryRun: input.dryRun ?? false, by: actor, on: $0)
        }
        return try JSONAnswer(
            record, status: .accepted, location: "/v1/review-rounds/\(id)/draws/\(record.number)", context: context
        ).response
    }

    @Sendable func draws(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let draws = try await database.withConnection { try await ReviewRoundStore.draws(roundID: id, by: actor, on: $0) }
        return try JSONAnswer(Items(items: draws), context: context).response
    }

    @Sendable func draw(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let number = try context.id("number")
        let draw = try await database.withConnection {
            try await ReviewRoundStore.draw(roundID: id, number: number, by: actor, on: $0)
        }
        return try JSONAnswer(draw, context: context).response
    }

    @Sendable func seats(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let seats = try await database.withConnection { try await ReviewRoundStore.seats(roundID: id, by: actor, on: $0) }
        return try JSONAnswer(Items(items: seats), context: context).response
    }

    @Sendable func assignments(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let items = try await database.withConnection { try await ReviewRecusal.assignments(of: actor, on: $0) }
        return try JSONAnswer(Items(items: items), context: context).response
    }

    @Sendable func recuse(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.expert], to: "recuse from review assignments")
        let id = try context.id()
        var request = request
        let (recusal, _) = try await request.decodeJSON(Recusal.self, context: context)
        try await database.withTransaction {
            try await ReviewRecusal.recuse(assignmentID: id, reason: recusal.reason, by: actor, on: $0)
        }
        return Response(status: .noContent)
    }
}

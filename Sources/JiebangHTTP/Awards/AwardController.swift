import Foundation
import Hummingbird
import Jiebang
import Postgres

/// Awards: the publisher's picks of winners, their publication (公示), objections and finalisation,
/// and the public list of winning units on the board.
struct AwardController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("v1/challenges/:id/winners", use: award)
        router.put("v1/challenges/:id/winners/:bidId", use: pick)
        router.delete("v1/challenges/:id/winners/:bidId", use: unpick)
        router.post("v1/challenges/:id/winners/publish", use: publish)
        router.post("v1/challenges/:id/winners/finalise", use: finalise)
        router.post("v1/challenges/:id/objections", use: object)
        router.get("v1/challenges/:id/objections", use: objections)
        router.post("v1/objections/:id/resolve", use: resolve)
        router.get("v1/board/winners", use: board)
    }

    struct ObjectionInput: Decodable { var text: String }
    struct ResolutionInput: Decodable { var resolution: String }
    struct ObjectionList: Encodable { var items: [AwardObjections.Objection] }
    struct WinnerList: Encodable { var items: [AwardStore.PublicWinner] }

    @Sendable func award(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(context)
        let id = try context.id()
        let award = try await database.withConnection { try await AwardStore.award(challengeID: id, by: actor, on: $0) }
        return try JSONAnswer(award, context: context).response
    }

    @Sendable func pick(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(context)
        let id = try context.id()
        let bid = try context.id("bidId")
        let award = try await database.withTransaction { try await AwardStore.pick(challengeID: id, bidID: bid, by: actor, on: $0) }
        return try JSONAnswer(award, context: context).response
    }

    @Sendable func unpick(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(context)
        let id = try context.id()
        let bid = try context.id("bidId")
        let award = try await database.withTransaction { try await AwardStore.unpick(challengeID: id, bidID: bid, by: actor, on: $0) }
        return try JSONAnswer(award, context: context).response
    }

    @Sendable func publish(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(context)
        let id = try context.id()
        let award = try await database.withTransaction { try await AwardStore.publish(challengeID: id, by: actor, on: $0) }
        return try JSONAnswer(award, context: context).response
    }

    @Sendable func finalise(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(context)
        let id = try context.id()
        let award = try await database.withTransaction { try await AwardStore.finalise(challengeID: id, by: actor, on: $0) }
        return try JSONAnswer(award, context: context).response
    }

    @Sendable func object(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        var request = request
        let (input, body) = try await request.decodeJSON(ObjectionInput.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let receipt = try await AwardObjections.file(challengeID: id, text: input.text, by: actor, on: tx)
            return try JSONAnswer(receipt, status: .created, context: context)
        }
    }

    @Sendable func objections(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(context)
        let id = try context.id()
        let items = try await database.withConnection { try await AwardObjections.list(challengeID: id, by: actor, on: $0) }
        return try JSONAnswer(ObjectionList(items: items), context: context).response
    }

    @Sendable func resolve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try Self.publisher(context)
        let id = try context.id()
        var request = request
        let (input, _) = try await request.decodeJSON(ResolutionInput.self, context: context)
        let objection = try await database.withTransaction {
            try await AwardObjections.resolve(objectionID: id, resolution: input.resolution, by: actor, on: $0)
        }
        return try JSONAnswer(objection, context: context).response
    }

    @Sendable func board(_ request: Request, context: AppRequestContext) async throws -> Response {
        var query = QueryReader(request)
        let programme = query.positive("programme")
        try query.check()
        let items = try await database.withConnection { try await AwardStore.publicWinners(programmeID: programme, on: $0) }
        return try JSONAnswer(WinnerList(items: items), context: context).response
    }

    /// The signed-in actor, who must be a publisher.
    static func publisher(_ context: AppRequestContext) throws -> Actor {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "decide winners")
        return actor
    }
}

import Foundation
import Hummingbird
import Jiebang
import Postgres

/// Scoring: a programme's rubric, an expert's score sheets, closing a round and its ranking.
struct ScoringController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("v1/programmes/:id/rubric", use: rubric)
        router.put("v1/programmes/:id/rubric", use: replaceRubric)
        router.get("v1/expert/scores", use: mine)
        router.get("v1/review-assignments/:id/score", use: sheet)
        router.put("v1/review-assignments/:id/score", use: save)
        router.post("v1/review-assignments/:id/score/submit", use: submit)
        router.post("v1/review-rounds/:id/close", use: close)
        router.get("v1/review-rounds/:id/ranking", use: ranking)
    }

    struct RubricInput: Decodable { var criteria: [Rubric.Criterion] }
    struct ItemInput: Decodable {
        var criterion: String
        var score: Int
        var comment: String?
    }
    struct SheetInput: Decodable { var items: [ItemInput] }
    struct SheetList: Encodable { var items: [ScoreSheet] }

    @Sendable func rubric(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireActor()
        let id = try context.id()
        let rubric = try await database.withConnection { try await Rubric.load(programmeID: id, on: $0) }
        return try JSONAnswer(rubric, context: context).response
    }

    @Sendable func replaceRubric(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "set a rubric")
        let id = try context.id()
        var request = request
        let (input, _) = try await request.decodeJSON(RubricInput.self, context: context)
        let rubric = try await database.withTransaction { try await Rubric.replace(programmeID: id, input.criteria, by: actor, on: $0) }
        return try JSONAnswer(rubric, context: context).response
    }

    @Sendable func mine(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let sheets = try await database.withConnection { try await ScoreSheet.mine(by: actor, on: $0) }
        return try JSONAnswer(SheetList(items: sheets), context: context).response
    }

    @Sendable func sheet(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.expert], to: "score bids")
        let id = try context.id()
        let sheet = try await database.withConnection { try await ScoreSheet.load(assignmentID: id, by: actor, on: $0) }
        return try JSONAnswer(sheet, revision: max(sheet.revision, 1), context: context).response
    }

    @Sendable func save(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.expert], to: "score bids")
        let id = try context.id()
        var request = request
        let (input, _) = try await request.decodeJSON(SheetInput.self, context: context)
        let items = input.items.map { ScoreSheet.Item(criterion: $0.criterion, score: $0.score, comment: $0.comment ?? "") }
        let sheet = try await database.withTransaction { try await ScoreSheet.save(assignmentID: id, items, by: actor, on: $0) }
        return try JSONAnswer(sheet, revision: sheet.revision, context: context).response
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.expert], to: "score bids")
        let id = try context.id()
        let sheet = try await database.withTransaction { try await ScoreSheet.submit(assignmentID: id, by: actor, on: $0) }
        return try JSONAnswer(sheet, revision: sheet.revision, context: context).response
    }

    @Sendable func close(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "close review rounds")
        let id = try context.id()
        let ranking = try await database.withTransaction { try await RoundRanking.close(roundID: id, by: actor, on: $0) }
        return try JSONAnswer(ranking, context: context).response
    }

    @Sendable func ranking(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "see rankings")
        let id = try context.id()
        let ranking = try await database.withConnection { try await RoundRanking.ranking(roundID: id, by: actor, on: $0) }
        return try JSONAnswer(ranking, context: context).response
    }
}

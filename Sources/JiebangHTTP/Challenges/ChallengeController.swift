import Hummingbird
import Jiebang
import Postgres

/// A publisher's side of challenges: drafts (edited with If-Match), publishing, amendments.
struct ChallengeController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/programmes/:id/challenges", use: create)
        router.get("v1/challenges/:id", use: show)
        router.put("v1/challenges/:id", use: update)
        router.post("v1/challenges/:id/publish", use: publish)
        router.post("v1/challenges/:id/amendments", use: amend)
    }

    struct AmendmentRequest: Decodable {
        /// Why the published challenge changes; shown with the amendment.
        var reason: String
        /// The challenge as it is to be.
        var challenge: ChallengeDrafting.Input
    }

    struct AmendmentView: Encodable {
        var challenge: ChallengeDrafting.Challenge
        var version: Int
        var changes: [String: String]
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "draft a challenge")
        let programmeID = try context.id()
        var request = request
        let (input, body) = try await request.decodeJSON(ChallengeDrafting.Input.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let challenge = try await ChallengeDrafting.create(programmeID: programmeID, input, by: actor, on: tx)
            return try JSONAnswer(
                challenge, status: .created, revision: challenge.revision, location: "/v1/challenges/\(challenge.id)",
                context: context)
        }
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let challenge = try await database.withConnection { try await ChallengeDrafting.challenge(id: id, for: actor, on: $0) }
        return try JSONAnswer(challenge, revision: challenge.revision, context: context).response
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "edit a challenge")
        let id = try context.id()
        let revision = try request.ifMatchRevision(required: true)!
        var request = request
        let (input, _) = try await request.decodeJSON(ChallengeDrafting.Input.self, context: context)
        let challenge = try await database.withTransaction {
            try await ChallengeDrafting.update(id: id, input, ifRevision: revision, by: actor, on: $0)
        }
        return try JSONAnswer(challenge, revision: challenge.revision, context: context).response
    }

    @Sendable func publish(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "publish a challenge")
        let id = try context.id()
        let revision = try request.ifMatchRevision(required: false)
        let challenge = try await database.withTransaction {
            try await ChallengeDrafting.publish(id: id, ifRevision: revision, by: actor, on: $0)
        }
        return try JSONAnswer(challenge, revision: challenge.revision, context: context).response
    }

    @Sendable func amend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "amend a challenge")
        let id = try context.id()
        let revision = try request.ifMatchRevision(required: false)
        var request = request
        let (amendment, body) = try await request.decodeJSON(AmendmentRequest.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let (challenge, changes) = try await ChallengeDrafting.amend(
                id: id, amendment.challenge, reason: amendment.reason, ifRevision: revision, by: actor, on: tx)
            return try JSONAnswer(
                AmendmentView(challenge: challenge, version: challenge.version, changes: changes), status: .created,
                revision: challenge.revision, location: "/v1/board/challenges/\(id)", context: context)
        }
    }
}

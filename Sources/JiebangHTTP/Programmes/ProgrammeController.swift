import Hummingbird
import Jiebang
import Postgres

/// Programmes: public to read; created and edited (with If-Match) by a publisher of their bureau.
struct ProgrammeController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("v1/programmes", use: list)
        router.post("v1/programmes", use: create)
        router.get("v1/programmes/:id", use: show)
        router.put("v1/programmes/:id", use: update)
    }

    struct ListView: Encodable {
        var items: [ProgrammeStore.Programme]
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let items = try await database.withConnection { try await ProgrammeStore.list(on: $0) }
        return try JSONAnswer(ListView(items: items), context: context).response
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.id()
        let programme = try await database.withConnection { try await ProgrammeStore.programme(id: id, on: $0) }
        return try JSONAnswer(programme, revision: programme.revision, context: context).response
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "create a programme")
        var request = request
        let (input, body) = try await request.decodeJSON(ProgrammeStore.Input.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let programme = try await ProgrammeStore.create(input, by: actor, on: tx)
            return try JSONAnswer(
                programme, status: .created, revision: programme.revision, location: "/v1/programmes/\(programme.id)",
                context: context)
        }
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "edit a programme")
        let id = try context.id()
        let revision = try request.ifMatchRevision(required: true)!
        var request = request
        let (input, _) = try await request.decodeJSON(ProgrammeStore.Input.self, context: context)
        let programme = try await database.withTransaction {
            try await ProgrammeStore.update(id: id, input, ifRevision: revision, by: actor, on: $0)
        }
        return try JSONAnswer(programme, revision: programme.revision, context: context).response
    }
}

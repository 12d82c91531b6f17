import Hummingbird
import Jiebang
import Postgres

/// Units: registration (open to anyone, with the unit's first admin), reading within scope, edits with If-Match.
struct UnitController {
    let database: PostgresClient
    let passwords: PasswordHashingPool

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/units", use: register)
        router.get("v1/units/:id", use: show)
        router.put("v1/units/:id", use: update)
    }

    struct Registration: Decodable {
        var unit: UnitStore.Input
        var admin: UnitStore.FirstAdmin?
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let actor = context.actor, actor.role != .systemAdmin {
            throw Problem(status: .forbidden, detail: "Units register themselves, or a system admin registers them.")
        }
        var request = request
        let (registration, body) = try await request.decodeJSON(Registration.self, context: context)
        var admin: (UnitStore.FirstAdmin, NewPassword)?
        if let first = registration.admin {
            admin = (first, try await NewPassword.prepare(first.password, personal: [first.login, first.displayName], on: passwords))
        }
        return try await Creation(database: database).respond(to: request, body: body, context: context) { [admin] tx in
            let unit = try await UnitStore.register(registration.unit, admin: admin, by: context.actor, on: tx)
            return try JSONAnswer(unit, status: .created, revision: unit.revision, location: "/v1/units/\(unit.id)", context: context)
        }
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let unit = try await database.withConnection { try await UnitStore.unit(id: id, for: actor, on: $0) }
        return try JSONAnswer(unit, revision: unit.revision, context: context).response
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let revision = try request.ifMatchRevision(required: true)!
        var request = request
        let (input, _) = try await request.decodeJSON(UnitStore.Input.self, context: context)
        let unit = try await database.withTransaction {
            try await UnitStore.update(id: id, input, ifRevision: revision, by: actor, on: $0)
        }
        return try JSONAnswer(unit, revision: unit.revision, context: context).response
    }
}

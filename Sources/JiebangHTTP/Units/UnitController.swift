import Hummingbird
import Jiebang
import Postgres

/// Units: registration (open to anyone, with the unit's first admin), reading within scope, edits with If-Match.
struct UnitController {
    let database: PostgresClient
    let passwords: PasswordHashingPool
    /// How registrations by people not signed in are counted per client address (nil: not at all).
    var registrationThrottle: SignInThrottle? = .registrationsPerAddress

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/units", use: register)
        router.get("v1/units/:id", use: show)
        router.put("v1/units/:id", use: update)
        router.get("v1/units/pending", use: pending)
        router.put("v1/units/:id/licence", use: uploadLicence)
        router.get("v1/units/:id/licence", use: downloadLicence)
        router.post("v1/units/:id/verification", use: decide)
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
        let throttle = context.actor == nil ? registrationThrottle : nil
        return try await Creation(database: database).respond(to: request, body: body, context: context) { [admin] tx in
            // Counted with the registration itself: one that fails counts nothing.
            if let throttle, let address = context.clientAddress,
                let wait = try await SignInThrottleStore.attempt([.registrations(from: address, throttle: throttle)], on: tx)
            {
                throw AccountError.registrationsThrottled(retryAfter: wait)
            }
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

    struct PendingPage: Encodable {
        var items: [UnitVerification.PendingUnit]
        /// The `after` of the next page, if there is one.
        var next: Int?
    }

    /// The units waiting for the actor's decision (a municipal recommender's region; every region for a
    /// system admin), oldest first, with their licences and any other unit claiming the same code.
    @Sendable func pending(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var query = QueryReader(request)
        let after = query.positive("after") ?? 0
        let limit = query.limit(default: 50, maximum: 200)
        try query.check()
        let items = try await database.withConnection {
            try await UnitVerification.pending(for: actor, afterID: after, limit: limit + 1, on: $0)
        }
        let page = PendingPage(items: Array(items.prefix(limit)), next: items.count > limit ? items[limit - 1].unit.id : nil)
        return try JSONAnswer(page, context: context).response
    }

    /// Stores the unit's business licence (a PDF body; `?filename=`), replacing an earlier one.
    @Sendable func uploadLicence(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let filename = request.uri.queryParameters["filename"].map(String.init) ?? ""
        var request = request
        let body = try await PDFResponse.body(of: &request)
        let bytes = Array(body.readableBytesView)
        let licence = try await database.withTransaction { tx in
            try await UnitVerification.uploadLicence(
                unitID: id, filename: filename, contentType: request.headers[.contentType], bytes: bytes, by: actor, on: tx)
        }
        return try JSONAnswer(licence, context: context).response
    }

    /// The unit's business licence, as an attachment.
    @Sendable func downloadLicence(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let (licence, bytes) = try await database.withConnection { try await UnitVerification.licence(unitID: id, for: actor, on: $0) }
        return PDFResponse.download(filename: licence.filename, sha256: licence.sha256, bytes: bytes)
    }

    /// The bureau's decision on a unit: `{"decision": "verified" | "rejected", "note": "..."}`.
    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        var request = request
        let (decision, _) = try await request.decodeJSON(UnitVerification.Decision.self, context: context)
        let unit = try await database.withTransaction { try await UnitVerification.decide(unitID: id, decision, by: actor, on: $0) }
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

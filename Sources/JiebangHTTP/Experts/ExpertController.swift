import Hummingbird
import Jiebang
import NIOCore
import Postgres

/// The expert pool (专家库): kept by the publishers of a provincial bureau (list, search, create,
/// import a CSV, edit with If-Match, retire, reinstate, ties); read by each expert for themself, who
/// may also change their availability and declare ties. No one else sees experts.
struct ExpertController {
    let database: PostgresClient
    let passwords: PasswordHashingPool

    /// The largest CSV an import accepts.
    static let maximumImport = 5 << 20

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("v1/experts", use: list)
        router.post("v1/experts", use: create)
        router.post("v1/experts/import", use: importTable)
        router.get("v1/experts/:id", use: show)
        router.patch("v1/experts/:id", use: update)
        router.post("v1/experts/:id/retire", use: retire)
        router.post("v1/experts/:id/reinstate", use: reinstate)
        router.get("v1/experts/:id/ties", use: ties)
        router.put("v1/experts/:id/ties/:unitID", use: declareTie)
        router.delete("v1/experts/:id/ties/:unitID", use: removeTie)
        router.get("v1/me/expert-profile", use: ownProfile)
    }

    struct PageView: Encodable {
        var items: [Expert]
        /// The `after` of the next page, if there is one.
        var next: Int?
    }

    struct TieList: Encodable {
        var items: [Tie]
    }

    struct TieDeclaration: Decodable {
        var reason: String
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "list experts")
        var query = QueryReader(request)
        let after = query.positive("after")
        let limit = query.limit(default: 50, maximum: 200)
        let flag = { (text: String) in ["true": true, "false": false][text] }
        let available = query.oneOf("available", flag, expected: ["true", "false"])
        let includeRetired = query.oneOf("includeRetired", flag, expected: ["true", "false"]) ?? false
        let search = query.text("q", maximumLength: 100)
        try query.check()
        let items = try await database.withConnection {
            try await ExpertStore.list(
                search: search, includeRetired: includeRetired, available: available, afterID: after, limit: limit + 1,
                for: actor, on: $0)
        }
        let page = PageView(items: Array(items.prefix(limit)), next: items.count > limit ? items[limit - 1].id : nil)
        return try JSONAnswer(page, context: context).response
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "create experts")
        var request = request
        let (input, body) = try await request.decodeJSON(ExpertInput.self, context: context)
        var password: NewPassword?
        if let given = input.password {
            password = try await NewPassword.prepare(given, personal: [input.login, input.displayName, input.email], on: passwords)
        }
        return try await Creation(database: database).respond(to: request, body: body, context: context) { [password] tx in
            let expert = try await ExpertStore.create(input, password: password, by: actor, on: tx)
            return try JSONAnswer(
                expert, status: .created, revision: expert.revision, location: "/v1/experts/\(expert.id)", context: context)
        }
    }

    @Sendable func importTable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "import experts")
        guard let bureauID = actor.bureauID else { throw DomainError.forbidden("you belong to no bureau") }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maximumImport)
        } catch is NIOTooManyBytesError {
            throw Problem(status: .contentTooLarge, detail: "An expert table may have at most \(Self.maximumImport) bytes.")
        }
        guard RequestText.isUTF8(body.readableBytesView) else { throw RequestText.notUTF8Problem(field: "body") }
        let rows: [ExpertImport.Row]
        switch ExpertImport.parse(String(decoding: body.readableBytesView, as: UTF8.self)) {
        case .success(let parsed): rows = parsed
        case .failure(let failure): throw DomainError.invalid(failure.issues)
        }
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            switch try await ExpertStore.importRows(
                rows, bureauID: bureauID, actor: actor.displayName, actorID: actor.userID, on: tx)
            {
            case .success(let summary): return try JSONAnswer(summary, context: context)
            case .failure(let failure): throw DomainError.invalid(failure.issues)
            }
        }
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let expert = try await database.withConnection { try await ExpertStore.expert(id: id, for: actor, on: $0) }
        return try JSONAnswer(expert, revision: expert.revision, context: context).response
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher, .expert], to: "edit experts")
        let id = try context.id()
        let revision = try request.ifMatchRevision(required: true)!
        var request = request
        let (changes, _) = try await request.decodeJSON(ExpertChanges.self, context: context)
        let expert = try await database.withTransaction {
            try await ExpertStore.update(id: id, changes, ifRevision: revision, by: actor, on: $0)
        }
        return try JSONAnswer(expert, revision: expert.revision, context: context).response
    }

    @Sendable func retire(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let expert = try await database.withTransaction { try await ExpertStore.retire(id: id, by: actor, on: $0) }
        return try JSONAnswer(expert, revision: expert.revision, context: context).response
    }

    @Sendable func reinstate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let expert = try await database.withTransaction { try await ExpertStore.reinstate(id: id, by: actor, on: $0) }
        return try JSONAnswer(expert, revision: expert.revision, context: context).response
    }

    @Sendable func ties(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let items = try await database.withConnection { try await ExpertStore.ties(expertID: id, for: actor, on: $0) }
        return try JSONAnswer(TieList(items: items), context: context).response
    }

    @Sendable func declareTie(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher, .expert], to: "declare ties")
        let id = try context.id()
        let unitID = try context.id("unitID")
        var request = request
        let (declaration, _) = try await request.decodeJSON(TieDeclaration.self, context: context)
        let tie = try await database.withTransaction {
            try await ExpertStore.declareTie(expertID: id, unitID: unitID, reason: declaration.reason, by: actor, on: $0)
        }
        return try JSONAnswer(tie, context: context).response
    }

    @Sendable func removeTie(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "remove an expert's ties")
        let id = try context.id()
        let unitID = try context.id("unitID")
        try await database.withTransaction { try await ExpertStore.removeTie(expertID: id, unitID: unitID, by: actor, on: $0) }
        return Response(status: .noContent)
    }

    @Sendable func ownProfile(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let expert = try await database.withConnection { try await ExpertStore.ownProfile(of: actor, on: $0) }
        return try JSONAnswer(expert, revision: expert.revision, context: context).response
    }
}

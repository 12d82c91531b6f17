import Hummingbird
import Jiebang
import NIOCore
import Postgres

/// The result pool: results filed by universities and institutes (or a bureau for them), and accepted projects'.
struct ResultController {
    let database: PostgresClient

    /// The largest CSV an import accepts.
    static let maximumImport = 5 << 20

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/results", use: file)
        router.post("v1/results/import", use: importTable)
        router.get("v1/results", use: list)
        router.get("v1/results/:id", use: show)
        router.get("v1/results/:id/matches", use: matches)
    }

    /// The open demands the result could serve, best first, with their reasons.
    @Sendable func matches(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let items = try await database.withConnection { try await PoolMatching.forResult(id: id, for: actor, on: $0) }
        return try JSONAnswer(TalentController.MatchList(items: items), context: context).response
    }

    struct PageView: Encodable {
        var items: [ResultFiling.Result]
        /// The `before` of the next page, if there is one.
        var next: Int?
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(
            actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher], to: "file a result")
        var request = request
        let (input, body) = try await request.decodeJSON(ResultFiling.Input.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let result = try await ResultFiling.file(input, by: actor, on: tx)
            return try JSONAnswer(result, status: .created, location: "/v1/results/\(result.id)", context: context)
        }
    }

    struct ImportSummary: Encodable {
        /// Rows read, each now a result.
        var imported: Int
        /// The new results' ids, in the file's order.
        var ids: [Int]
    }

    /// A result table (CSV, Chinese headers) imported whole, or a 422 naming every bad row's line and column.
    @Sendable func importTable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(
            actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher], to: "import results")
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maximumImport)
        } catch is NIOTooManyBytesError {
            throw Problem(status: .contentTooLarge, detail: "A result table may have at most \(Self.maximumImport) bytes.")
        }
        guard RequestText.isUTF8(body.readableBytesView) else { throw RequestText.notUTF8Problem(field: "body") }
        let rows: [ResultImport.Row]
        switch ResultImport.parse(String(decoding: body.readableBytesView, as: UTF8.self)) {
        case .success(let parsed): rows = parsed
        case .failure(let failure): throw DomainError.invalid(failure.issues)
        }
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            switch try await ResultStore.importRows(rows, by: actor, on: tx) {
            case .success(let ids): return try JSONAnswer(ImportSummary(imported: ids.count, ids: ids), context: context)
            case .failure(let failure): throw DomainError.invalid(failure.issues)
            }
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var query = QueryReader(request)
        let before = query.positive("before")
        let limit = query.limit(default: 50, maximum: 200)
        try query.check()
        let items = try await database.withConnection {
            try await ResultFiling.list(beforeID: before, limit: limit + 1, for: actor, on: $0)
        }
        let page = PageView(items: Array(items.prefix(limit)), next: items.count > limit ? items[limit - 1].id : nil)
        return try JSONAnswer(page, context: context).response
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let result = try await database.withConnection { try await ResultFiling.result(id: id, for: actor, on: $0) }
        return try JSONAnswer(result, revision: result.revision, context: context).response
    }
}

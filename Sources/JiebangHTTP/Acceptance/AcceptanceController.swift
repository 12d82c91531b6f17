import Foundation
import Hummingbird
import Jiebang
import Postgres

/// Acceptance (验收): requested by the lead unit, judged by the drawn experts and, for the finances, by
/// the publisher; the list of successful units published by the publisher and read by everyone.
struct AcceptanceController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/projects/:id/acceptance", use: request)
        router.get("v1/acceptances/:id", use: show)
        router.post("v1/acceptances/:id/verdict", use: verdict)
        router.post("v1/acceptances/:id/finances", use: finances)
        router.post("v1/acceptances/:id/draw", use: redraw)
        router.get("v1/acceptances/:id/evidence", use: evidence)
        router.post("v1/acceptances/:id/evidence", use: addEvidence)
        router.get("v1/acceptances/:id/evidence/:evidenceID", use: downloadEvidence)
        router.get("v1/expert/acceptances", use: assigned)
        router.post("v1/programmes/:id/success-list", use: publish)
        router.get("v1/board/successes", use: board)
    }

    struct Finances: Decodable {
        var passed: Bool
        var note: String?
    }

    struct AssignmentList: Encodable {
        var items: [AcceptanceStore.Assignment]
    }

    struct SuccessList: Encodable {
        var items: [SuccessListStore.Entry]
    }

    struct EvidenceList: Encodable {
        var items: [AcceptanceEvidence.File]
    }

    @Sendable func request(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.unitAdmin], to: "request acceptance")
        let id = try context.id()
        var request = request
        let (input, _) = try await request.decodeJSON(Acceptance.Input.self, context: context)
        let acceptance = try await database.withTransaction { try await AcceptanceStore.request(projectID: id, input, by: actor, on: $0) }
        return try JSONAnswer(acceptance, status: .created, location: "/v1/acceptances/\(acceptance.id)", context: context).response
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let acceptance = try await database.withConnection { try await AcceptanceStore.acceptance(id: id, by: actor, on: $0) }
        return try JSONAnswer(acceptance, context: context).response
    }

    @Sendable func verdict(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.expert], to: "give acceptance verdicts")
        let id = try context.id()
        var request = request
        let (verdict, _) = try await request.decodeJSON(Acceptance.Verdict.self, context: context)
        let acceptance = try await database.withTransaction {
            try await AcceptanceStore.giveVerdict(acceptanceID: id, verdict, by: actor, on: $0)
        }
        return try JSONAnswer(acceptance, context: context).response
    }

    @Sendable func finances(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "judge an acceptance's finances")
        let id = try context.id()
        var request = request
        let (finances, _) = try await request.decodeJSON(Finances.self, context: context)
        let acceptance = try await database.withTransaction {
            try await AcceptanceStore.judgeFinances(acceptanceID: id, passed: finances.passed, note: finances.note ?? "", by: actor, on: $0)
        }
        return try JSONAnswer(acceptance, context: context).response
    }

    @Sendable func redraw(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "draw acceptance experts again")
        let id = try context.id()
        let acceptance = try await database.withTransaction { try await AcceptanceStore.redraw(acceptanceID: id, by: actor, on: $0) }
        return try JSONAnswer(acceptance, status: .accepted, context: context).response
    }

    @Sendable func assigned(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let items = try await database.withConnection { try await AcceptanceStore.assigned(to: actor, on: $0) }
        return try JSONAnswer(AssignmentList(items: items), context: context).response
    }

    @Sendable func publish(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "publish the list of successful units")
        let id = try context.id()
        let batch = try await database.withTransaction { try await SuccessListStore.publish(programmeID: id, by: actor, on: $0) }
        return try JSONAnswer(batch, status: .created, context: context).response
    }

    @Sendable func board(_ request: Request, context: AppRequestContext) async throws -> Response {
        var query = QueryReader(request)
        let programme = query.positive("programme")
        try query.check()
        let items = try await database.withConnection { try await SuccessListStore.published(programmeID: programme, on: $0) }
        return try JSONAnswer(SuccessList(items: items), context: context).response
    }

    @Sendable func evidence(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let items = try await database.withConnection { try await AcceptanceEvidence.list(acceptanceID: id, for: actor, on: $0) }
        return try JSONAnswer(EvidenceList(items: items), context: context).response
    }

    @Sendable func addEvidence(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.unitAdmin, .unitMember], to: "add acceptance evidence")
        let id = try context.id()
        let filename = request.uri.queryParameters["filename"].map(String.init) ?? ""
        var request = request
        let body = try await PDFResponse.body(of: &request)
        let bytes = Array(body.readableBytesView)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let file = try await AcceptanceEvidence.add(
                acceptanceID: id, filename: filename, contentType: request.headers[.contentType], bytes: bytes, by: actor, on: tx)
            return try JSONAnswer(file, status: .created, location: "/v1/acceptances/\(id)/evidence/\(file.id)", context: context)
        }
    }

    @Sendable func downloadEvidence(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let evidenceID = try context.id("evidenceID")
        let (file, bytes) = try await database.withConnection {
            try await AcceptanceEvidence.download(acceptanceID: id, evidenceID: evidenceID, for: actor, on: $0)
        }
        return PDFResponse.download(filename: file.filename, sha256: file.sha256, bytes: bytes)
    }
}

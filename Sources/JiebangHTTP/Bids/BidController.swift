import Foundation
import HTTPTypes
import Hummingbird
import Jiebang
import Logging
import Postgres

/// Bids: drafted and submitted by the lead unit, answered by partners, recommended by the lead's city,
/// checked by the province; attachments and the summary table.
struct BidController {
    let database: PostgresClient

    /// The routes behind the authentication middleware that looks the token up.
    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/challenges/:id/bids", use: create)
        router.get("v1/bids", use: list)
        router.get("v1/bids/:id", use: show)
        router.put("v1/bids/:id", use: update)
        router.post("v1/bids/:id/members", use: invite)
        router.post("v1/bids/:id/members/:unitID/response", use: respond)
        router.get("v1/bids/:id/submissions", use: submissions)
        router.post("v1/bids/:id/withdraw", use: withdraw)
        router.post("v1/bids/:id/recommendation", use: recommend)
        router.post("v1/bids/:id/formal-check", use: formalCheck)
        router.get("v1/bids/:id/attachments", use: attachments)
        router.post("v1/bids/:id/attachments", use: attach)
        router.get("v1/bids/:id/attachments/:attachmentID", use: download)
        router.put("v1/programmes/:id/quotas/:regionCode", use: setQuota)
        router.get("v1/programmes/:id/bids/summary", use: summary)
    }

    /// The routes that look their token up themselves (`AuthenticationMiddleware` with `deferred`): the submit,
    /// whose deadline rush saves a round trip to PostgreSQL per request so.
    func addSelfIdentifyingRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/bids/:id/submit", use: submit)
    }

    struct Invitation: Decodable { var unitID: Int }
    struct InvitationAnswer: Decodable {
        var accept: Bool
        var part: BidStore.Part?
    }
    struct Recommendation: Decodable {
        var decision: BidReview.Decision
        var opinion: String
    }
    struct FormalCheck: Decodable { var items: [BidReview.ItemResult] }
    struct Quota: Decodable { var quota: Int? }
    struct QuotaView: Encodable {
        var programmeID: Int
        var regionCode: String
        var quota: Int?
    }
    struct PageView: Encodable {
        var items: [BidStore.Bid]
        var next: Int?
    }
    struct AttachmentList: Encodable { var items: [BidAttachments.Attachment] }
    struct ReceiptList: Encodable { var items: [BidStore.Receipt] }

    static let unitRoles: Set<Role> = [.unitMember, .unitAdmin]

    /// The characters left as they are in an RFC 5987 file name: ASCII letters, digits and `-._~`.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, Self.unitRoles, to: "draft a bid")
        let challengeID = try context.id()
        var request = request
        let (content, body) = try await request.decodeJSON(BidContent.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let bid = try await BidStore.create(challengeID: challengeID, content, by: actor, on: tx)
            return try JSONAnswer(bid, status: .created, revision: bid.revision, location: "/v1/bids/\(bid.id)", context: context)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var query = QueryReader(request)
        let programmeID = query.positive("programmeID")
        let challengeID = query.positive("challengeID")
        let before = query.positive("before")
        let limit = query.limit(default: 50, maximum: 200)
        let status = query.oneOf("status", BidStatus.init(rawValue:), expected: BidStatus.allCases.map(\.rawValue))
        try query.check()
        let bids = try await database.withConnection {
            try await BidStore.list(
                programmeID: programmeID, challengeID: challengeID, status: status, beforeID: before, limit: limit + 1,
                for: actor, on: $0)
        }
        let page = PageView(items: Array(bids.prefix(limit)), next: bids.count > limit ? bids[limit - 1].id : nil)
        return try JSONAnswer(page, context: context).response
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let bid = try await database.withConnection { try await BidStore.bid(id: id, for: actor, on: $0) }
        return try JSONAnswer(bid, revision: bid.revision, context: context).response
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let revision = try request.ifMatchRevision(required: true)!
        var request = request
        let (content, _) = try await request.decodeJSON(BidContent.self, context: context)
        let bid = try await database.withTransaction {
            try await BidStore.update(id: id, content, ifRevision: revision, by: actor, on: $0)
        }
        return try JSONAnswer(bid, revision: bid.revision, context: context).response
    }

    @Sendable func invite(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        var request = request
        let (invitation, body) = try await request.decodeJSON(Invitation.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let bid = try await BidStore.invite(id: id, unitID: invitation.unitID, by: actor, on: tx)
            return try JSONAnswer(bid, status: .created, revision: bid.revision, context: context)
        }
    }

    @Sendable func respond(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let unitID = try context.id("unitID")
        var request = request
        let (answer, _) = try await request.decodeJSON(InvitationAnswer.self, context: context)
        let bid = try await database.withTransaction {
            try await BidStore.respond(id: id, unitID: unitID, accept: answer.accept, part: answer.part, by: actor, on: $0)
        }
        return try JSONAnswer(bid, revision: bid.revision, context: context).response
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let submitter: BidStore.Submitter
        if let admission = context.tokenAdmission {
            submitter = .token(admission.token, admit: admission.admit)
        } else {
            submitter = .actor(try context.requireActor())
        }
        let id: Int
        let revision: Int?
        do {
            id = try context.id()
            revision = try request.ifMatchRevision(required: false)
        } catch {
            // As on every other route, the token is judged first: a stranger's bad id is 401, not 400.
            if let admission = context.tokenAdmission {
                let use = try await database.withConnection { try await AccountStore.identify(admission.token, on: $0) }
                _ = try admission.admit(use)
            }
            throw error
        }
        let receipt = try await BidStore.submit(id: id, ifRevision: revision, as: submitter, database: database)
        return try JSONAnswer(receipt, context: context).response
    }

    @Sendable func submissions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let items = try await database.withConnection { try await BidStore.receipts(id: id, for: actor, on: $0) }
        return try JSONAnswer(ReceiptList(items: items), context: context).response
    }

    @Sendable func withdraw(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let bid = try await database.withTransaction { try await BidStore.withdraw(id: id, by: actor, on: $0) }
        return try JSONAnswer(bid, revision: bid.revision, context: context).response
    }

    @Sendable func recommend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.municipalRecommender], to: "recommend bids")
        let id = try context.id()
        var request = request
        let (recommendation, _) = try await request.decodeJSON(Recommendation.self, context: context)
        let bid = try await database.withTransaction {
            try await BidReview.decide(bidID: id, recommendation.decision, opinion: recommendation.opinion, by: actor, on: $0)
        }
        return try JSONAnswer(bid, revision: bid.revision, context: context).response
    }

    @Sendable func formalCheck(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "check bids")
        let id = try context.id()
        var request = request
        let (check, _) = try await request.decodeJSON(FormalCheck.self, context: context)
        let bid = try await database.withTransaction {
            try await BidReview.formalCheck(bidID: id, check.items, by: actor, on: $0)
        }
        return try JSONAnswer(bid, revision: bid.revision, context: context).response
    }

    @Sendable func attachments(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let items = try await database.withConnection { try await BidAttachments.list(bidID: id, for: actor, on: $0) }
        return try JSONAnswer(AttachmentList(items: items), context: context).response
    }

    @Sendable func attach(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, Self.unitRoles, to: "attach files to a bid")
        let id = try context.id()
        let filename = request.uri.queryParameters["filename"].map(String.init) ?? ""
        var request = request
        let body = try await PDFResponse.body(of: &request)
        let bytes = Array(body.readableBytesView)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let attachment = try await BidAttachments.add(
                bidID: id, filename: filename, contentType: request.headers[.contentType], bytes: bytes, by: actor, on: tx)
            return try JSONAnswer(
                attachment, status: .created, location: "/v1/bids/\(id)/attachments/\(attachment.id)", context: context)
        }
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let attachmentID = try context.id("attachmentID")
        let (attachment, bytes) = try await database.withConnection {
            try await BidAttachments.download(bidID: id, attachmentID: attachmentID, for: actor, on: $0)
        }
        return PDFResponse.download(filename: attachment.filename, sha256: attachment.sha256, bytes: bytes)
    }

    @Sendable func setQuota(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "set recommendation quotas")
        let programmeID = try context.id()
        let region = context.parameters.get("regionCode") ?? ""
        var request = request
        let (quota, _) = try await request.decodeJSON(Quota.self, context: context)
        try await database.withTransaction {
            try await BidReview.setQuota(programmeID: programmeID, region: region, quota: quota.quota, by: actor, on: $0)
        }
        return try JSONAnswer(QuotaView(programmeID: programmeID, regionCode: region, quota: quota.quota), context: context).response
    }

    @Sendable func summary(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let programmeID = try context.id()
        let query = request.uri.queryParameters
        let format = query["format"].map(String.init) ?? "csv"
        guard format == "csv" || format == "xlsx" else {
            throw Problem(
                status: .badRequest, title: "Invalid query parameters", detail: "format must be csv or xlsx.",
                errors: [.init(field: "format", message: "must be csv or xlsx")])
        }
        let region = query["region"].map(String.init)
        if let region {
            // It also names the download: only a region code may reach the Content-Disposition header.
            do {
                _ = try RegionCode(region)
            } catch {
                throw Problem(
                    status: .badRequest, title: "Invalid query parameters", detail: "region \(error).",
                    errors: [.init(field: "region", message: "\(error)")])
            }
        }
        return try await Self.summaryDownload(
            programmeID: programmeID, region: region, format: format, for: actor, database: database, logger: context.logger)
    }

    /// The 汇总表 download of a programme (or of one region), in `format` (`csv` or `xlsx`); the API and the
    /// bureau's and city's pages all answer with it.
    ///
    /// The CSV streams page by page: a page is read when the client has taken the one before (the writer
    /// waits while the socket is full), so memory stays at a page whatever the table's size. A failure mid-way
    /// (the database gone) throws out of the writer, and the server closes the connection before the last
    /// chunk: the client sees a cut download, never a hang. The failure is logged, since no middleware sees an
    /// error thrown after the response has begun.
    ///
    /// The workbook is written first, page by page, into a temporary file by libxlsxwriter (`SummaryWorkbook`,
    /// constant memory), then sent from it with its length; the file is unlinked as soon as it is open, so
    /// nothing is left behind whatever happens to the client.
    /// - Throws: the domain's refusal (who may export what) before the first byte; for the workbook, any
    ///   failure while it is written.
    static func summaryDownload(
        programmeID: Int, region: String?, format: String, for actor: Actor, database: PostgresClient, logger: Logger
    ) async throws -> Response {
        // Who may export what is settled before the first byte, so a refusal is still a problem document.
        let scope = try await database.withConnection {
            try await BidSummary.scope(programmeID: programmeID, region: region, for: actor, on: $0)
        }
        let pages = BidSummary.Pages(programmeID: programmeID, region: scope, database: database)
        let name = "summary-\(programmeID)\(region.map { "-\($0)" } ?? "").\(format)"
        if format == "xlsx" {
            return try await workbookDownload(programmeID: programmeID, region: scope, pages: pages, name: name, database: database)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name)\""],
            body: ResponseBody { writer in
                do {
                    try await writer.write(ByteBuffer(bytes: BidSummary.csvHead))
                    for try await page in pages {
                        try await writer.write(ByteBuffer(string: BidSummary.csvLines(page)))
                    }
                    try await writer.finish(nil)
                } catch {
                    logger.warning(
                        "summary download cut short",
                        metadata: ["error": "\(String(reflecting: error))", "programme.id": "\(programmeID)"])
                    throw error
                }
            })
    }

    /// The workbook written into a temporary file, then answered from it in 64 KiB chunks.
    static func workbookDownload(
        programmeID: Int, region: String?, pages: BidSummary.Pages, name: String, database: PostgresClient
    ) async throws -> Response {
        let path = FileManager.default.temporaryDirectory.appending(path: "jiebang-summary-\(UUID().uuidString).xlsx").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let challenges = try await database.withConnection {
            try await BidSummary.challenges(programmeID: programmeID, region: region, on: $0)
        }
        let workbook = try SummaryWorkbook(path: path, challenges: challenges)
        for try await page in pages { try workbook.add(page) }
        try workbook.close()
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                .contentDisposition: "attachment; filename=\"\(name)\"", .contentLength: "\(size)",
            ],
            body: ResponseBody { writer in
                defer { try? handle.close() }
                while let chunk = try handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            })
    }
}

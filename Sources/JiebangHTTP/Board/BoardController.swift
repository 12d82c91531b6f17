import Foundation
import Hummingbird
import Jiebang
import Postgres
import StreamingJSON

/// The public board (no sign-in): `GET /v1/board/challenges` lists and searches published challenges.
struct BoardController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("v1/board/challenges", use: list)
        router.get("v1/board/challenges/:id", use: show)
    }

    /// A challenge's public page: everything published about it, and its amendments.
    struct ChallengeView: ResponseEncodable {
        struct AmendmentView: Codable {
            var version: Int
            var reason: String
            var changes: String
            var amendedAt: Date
        }
        var id: Int
        var programmeID: Int
        var programmeName: String
        var title: String
        var task: String
        var content: String
        var indicators: [String]
        var category: String
        var domain: String
        var industryChain: String
        var applicationDeadline: Date
        var completionDeadline: String
        var fundingCeilingFen: Int64
        var winners: Int
        var status: String
        var version: Int
        var publishedAt: Date?
        var demandIDs: [Int]
        var amendments: [AmendmentView]
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> ChallengeView {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int(text), id > 0 else {
            throw Problem(
                status: .badRequest, title: "Invalid path parameter", detail: "The challenge id must be a positive whole number.",
                errors: [.init(field: "id", message: "\(text) is not a challenge id")])
        }
        guard let challenge = try await database.withConnection({ try await ChallengeStore.publicChallenge(id: id, on: $0) }) else {
            throw Problem(status: .notFound, detail: "No published challenge has id \(id).")
        }
        return ChallengeView(
            id: challenge.id, programmeID: challenge.programmeID, programmeName: challenge.programmeName,
            title: challenge.title, task: challenge.task, content: challenge.content, indicators: challenge.indicators,
            category: challenge.category, domain: challenge.domain, industryChain: challenge.industryChain,
            applicationDeadline: challenge.applicationDeadline, completionDeadline: challenge.completionDeadline,
            fundingCeilingFen: challenge.fundingCeilingFen, winners: challenge.winners, status: challenge.status.rawValue,
            version: challenge.version, publishedAt: challenge.publishedAt, demandIDs: challenge.demandIDs,
            amendments: challenge.amendments.map {
                .init(version: $0.version, reason: $0.reason, changes: $0.changes, amendedAt: $0.amendedAt)
            })
    }

    /// One challenge as the board shows it.
    struct EntryView: Encodable {
        var id: Int
        var programmeID: Int
        var title: String
        var category: String
        var domain: String
        var industryChain: String
        var status: String
        var applicationDeadline: Date
        var fundingCeilingFen: Int64
        var version: Int
    }

    /// A page of the board; `next` is the cursor of the following page.
    ///
    /// The board is the busiest answer, so it writes its own JSON (`JSONComposer`): through `Encodable`'s
    /// containers the encoding was 9% of the server's CPU under the board benchmark. Its `Encodable`
    /// conformance stays, and `BoardJSONTests` checks that both write the same bytes.
    struct PageView: Encodable, ResponseGenerator {
        var items: [EntryView]
        var next: String?

        func response(from request: Request, context: some RequestContext) throws -> Response {
            var json = JSONComposer(capacity: 64 + items.count * 384)
            write(to: &json)
            return json.withBytes { StreamingJSONEncoder.response(json: $0) }
        }

        /// Writes what `encode(to:)` writes: the members in declaration order, `next` left out when nil.
        func write(to json: inout JSONComposer) {
            json.beginObject()
            json.key("items")
            json.beginArray()
            for item in items {
                json.beginObject()
                json.member("id", item.id)
                json.member("programmeID", item.programmeID)
                json.member("title", item.title)
                json.member("category", item.category)
                json.member("domain", item.domain)
                json.member("industryChain", item.industryChain)
                json.member("status", item.status)
                json.member("applicationDeadline", item.applicationDeadline)
                json.member("fundingCeilingFen", item.fundingCeilingFen)
                json.member("version", item.version)
                json.endObject()
            }
            json.endArray()
            if let next { json.member("next", next) }
            json.endObject()
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> PageView {
        let query = try BoardQueryParser.parse(request.uri.queryParameters)
        let page = try await database.withConnection { try await BoardStore.search(query, on: $0) }
        return PageView(
            items: page.entries.map {
                EntryView(
                    id: $0.id, programmeID: $0.programmeID, title: $0.title, category: $0.category, domain: $0.domain,
                    industryChain: $0.industryChain, status: $0.status.rawValue, applicationDeadline: $0.applicationDeadline,
                    fundingCeilingFen: $0.fundingCeilingFen, version: $0.version)
            },
            next: page.next.flatMap(BoardQueryParser.encode))
    }
}

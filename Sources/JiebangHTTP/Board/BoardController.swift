import Foundation
import Hummingbird
import Jiebang
import Postgres

/// The public board (no sign-in): `GET /v1/board/challenges` lists and searches published challenges.
struct BoardController {
    let database: PostgresClient

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/board/challenges", use: list)
    }

    /// One challenge as the board shows it.
    struct EntryView: ResponseEncodable {
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
    struct PageView: ResponseEncodable {
        var items: [EntryView]
        var next: String?
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
            next: page.next.map(BoardQueryParser.encode))
    }
}

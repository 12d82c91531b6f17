import Foundation
import Jiebang
import Postgres
import Synchronization

/// The board's filter choices (`BoardStore.facets`), read at most once per `lifetime`: they change only
/// when a challenge is published in a new programme, domain or industry chain, and reading them scans
/// every published challenge, which the board's time budget cannot pay on each request.
final class BoardFacetCache: Sendable {
    let database: PostgresClient
    /// How long a reading is used. Default 30 seconds.
    let lifetime: Duration
    private let state = Mutex<(facets: BoardStore.Facets, readAt: ContinuousClock.Instant)?>(nil)

    init(database: PostgresClient, lifetime: Duration = .seconds(30)) {
        self.database = database
        self.lifetime = lifetime
    }

    /// The facets, read again when the last reading is older than `lifetime`.
    func current() async throws -> BoardStore.Facets {
        let now = ContinuousClock.now
        if let cached = state.withLock({ $0 }), now - cached.readAt < lifetime { return cached.facets }
        let facets = try await database.withConnection { try await BoardStore.facets(on: $0) }
        state.withLock { $0 = (facets, now) }
        return facets
    }
}

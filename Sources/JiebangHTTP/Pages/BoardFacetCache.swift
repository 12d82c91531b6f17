import Foundation
import Jiebang
import Postgres
import Synchronization

/// The board's filter choices (`BoardStore.facets`), read again only when a challenge has changed since
/// (`BoardStore.stamp`, one index probe): reading them scans every published challenge, which the board's
/// time budget cannot pay on each request, while a stale list would hide a newly published domain.
final class BoardFacetCache: Sendable {
    let database: PostgresClient
    private let state = Mutex<(facets: BoardStore.Facets, stamp: Date?)?>(nil)

    init(database: PostgresClient) {
        self.database = database
    }

    /// The facets as of `stamp`, a change already read (`BoardStore.countedPage` reads it with the page): read
    /// again only when it moved.
    func current(stamp: Date?) async throws -> BoardStore.Facets {
        if let cached = state.withLock({ $0 }), cached.stamp == stamp { return cached.facets }
        let facets = try await database.withConnection { try await BoardStore.facets(on: $0) }
        state.withLock { $0 = (facets, stamp) }
        return facets
    }

    /// The facets as of the latest change to any challenge.
    func current() async throws -> BoardStore.Facets {
        try await database.withConnection { db in
            let stamp = try await BoardStore.stamp(on: db)
            if let cached = state.withLock({ $0 }), cached.stamp == stamp { return cached.facets }
            let facets = try await BoardStore.facets(on: db)
            state.withLock { $0 = (facets, stamp) }
            return facets
        }
    }
}

import Synchronization

/// The board's result rows rendered once (from the `board-entry` template) and kept by the row's view, which
/// holds everything the row shows (the challenge's fields as the database last gave them, the search words
/// marked, the programme's name): a row whose challenge or programme changes is a new key, so nothing shown
/// is ever stale. swift-mustache's lookups were most of the board page's time; a page of known rows is now
/// a join of strings. At most `capacity` rows are kept; past it the cache starts again empty.
final class BoardEntryCache: Sendable {
    let renderer: PageRenderer
    let capacity: Int
    private let rows = Mutex<[PublicPageController.BoardEntry: String]>([:])

    init(renderer: PageRenderer, capacity: Int = 4_096) {
        self.renderer = renderer
        self.capacity = capacity
    }

    /// How many rows are kept.
    var count: Int { rows.withLock { $0.count } }

    /// The HTML of each entry, rendering only those not kept.
    func html(_ entries: [PublicPageController.BoardEntry]) -> String {
        var out = ""
        for entry in entries {
            if let kept = rows.withLock({ $0[entry] }) {
                out += kept
                continue
            }
            let rendered = renderer.html("board-entry", entry)
            rows.withLock { rows in
                if rows.count >= capacity { rows.removeAll(keepingCapacity: true) }
                rows[entry] = rendered
            }
            out += rendered
        }
        return out
    }
}

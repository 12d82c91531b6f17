/// What an API token may do. Every token reads; only one with `write` sends anything but GET and HEAD.
/// A session (signing in) holds both.
public enum TokenScope: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// GET and HEAD requests.
    case read
    /// Every other method as well: creating, changing, deciding, deleting.
    case write

    /// Both scopes: what a session holds.
    public static let all: [TokenScope] = [.read, .write]

    /// Whether a request with `method` (its HTTP name) needs the `write` scope.
    public static func needsWrite(method: String) -> Bool {
        !["GET", "HEAD", "OPTIONS"].contains(method)
    }

    public static func < (lhs: TokenScope, rhs: TokenScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

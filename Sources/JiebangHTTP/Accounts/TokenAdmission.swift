public import Jiebang

/// A bearer token not looked up yet, for a route whose first statement looks it up beside its own read (one
/// round trip to PostgreSQL fewer), and the middleware's admission of what that lookup finds.
public struct TokenAdmission: Sendable {
    /// The token as the request sent it.
    public let token: AccessToken
    /// The actor of the lookup's answer, or the refusal (401 for nil, 403 for a read-only token on a write).
    public let admit: @Sendable (TokenUse?) throws -> Actor
}

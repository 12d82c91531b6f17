/// A request's token, as ``AccountStore/identify(_:on:)`` found it.
public struct TokenUse: Sendable, Hashable {
    /// The token's row id in `access_tokens`.
    public var tokenID: Int
    /// Who the token stands for.
    public var actor: Actor
    /// Whether the token's `last_used_at` stamp is due: never stamped, or over a minute ago.
    public var stampDue: Bool
    /// What the token may do: both scopes for a session, those granted for an API token.
    public var scopes: Set<TokenScope>

    /// Creates a token use.
    public init(tokenID: Int, actor: Actor, stampDue: Bool, scopes: Set<TokenScope> = Set(TokenScope.all)) {
        self.tokenID = tokenID
        self.actor = actor
        self.stampDue = stampDue
        self.scopes = scopes
    }
}

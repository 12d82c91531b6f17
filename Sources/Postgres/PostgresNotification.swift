/// A notification received on a channel the client listens on.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel it was sent on.
    public var channel: String
    /// The payload given to `NOTIFY` or `pg_notify`.
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32
}

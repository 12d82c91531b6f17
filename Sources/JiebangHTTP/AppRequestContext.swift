public import Foundation
public import Hummingbird
public import Jiebang
public import StreamingJSON

/// The request context of every route: Hummingbird's core storage and the signed-in actor.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who sent the request, set by `AuthenticationMiddleware` from a bearer token; nil when anonymous.
    public var actor: Actor?
    /// The bearer token the actor was authenticated with (signing out revokes it).
    public var token: AccessToken?
    /// On a route that looks its token up itself (`AuthenticationMiddleware` with `deferred`): the token and how
    /// to admit what its lookup found. `actor` is then nil until the route has done so.
    public var tokenAdmission: TokenAdmission?

    /// The client's IP address as the socket saw it (nil in tests without a socket). Sign-in is
    /// throttled per address; behind a reverse proxy every client shares the proxy's.
    public var clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Compact JSON with ISO 8601 dates, keys in declaration order, written as the values encode.
    public var responseEncoder: StreamingJSONEncoder { StreamingJSONEncoder() }

    /// JSON with ISO 8601 dates, with or without fractional seconds, in `RequestDates`' range.
    public var requestDecoder: JSONDecoder { Self.decoder }

    /// The signed-in actor.
    /// - Throws: a 401 problem when the request carries no valid token.
    public func requireActor() throws -> Actor {
        guard let actor else {
            throw Problem(
                status: .unauthorized, detail: "Sign in and send the token as Authorization: Bearer <token>.")
        }
        return actor
    }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard
                let date = (try? Date(text, strategy: .iso8601))
                    ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "must be a date and time such as 2025-06-30T18:00:00+08:00")
            }
            guard RequestDates.contains(date) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: RequestDates.rule)
            }
            return date
        }
        return decoder
    }()
}

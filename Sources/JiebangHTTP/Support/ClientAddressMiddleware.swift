import Foundation
import HTTPTypes
import Hummingbird

/// Behind a reverse proxy every request comes from the proxy's address. When the socket's peer is one of
/// `trustedProxies`, the client's address is taken from `X-Forwarded-For`: its rightmost entry that is not
/// itself a trusted proxy (entries further left are whatever the client sent, so they are not believed).
/// A value that is not an IP address is ignored. Sign-in throttling and anonymous idempotency scopes use
/// the address this leaves in `AppRequestContext.clientAddress`.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// The proxies' addresses and networks (`JIEBANG_TRUSTED_PROXIES`).
    let trustedProxies: TrustedProxies

    static let header = HTTPField.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let peer = context.clientAddress, trustedProxies.contains(peer), let forwarded = request.headers[Self.header]
        else { return try await next(request, context) }
        var context = context
        if let client = Self.client(forwardedFor: forwarded, trusted: trustedProxies) { context.clientAddress = client }
        return try await next(request, context)
    }

    /// The rightmost untrusted address of an `X-Forwarded-For` value, or nil when there is none or it is no
    /// IP address.
    static func client(forwardedFor value: String, trusted: TrustedProxies) -> String? {
        let hops = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let hop = hops.last(where: { !trusted.contains($0) }) else { return nil }
        let allowed = Set("0123456789abcdefABCDEF.:")
        guard (2...45).contains(hop.count), hop.allSatisfy({ allowed.contains($0) }), hop.contains(where: { $0 == "." || $0 == ":" })
        else { return nil }
        return hop
    }
}

import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// A webhook receiver inside the test: a Hummingbird server on a free port that checks each request's
/// `Jiebang-Signature` with the documented recipe only (HMAC-SHA256 keyed with the secret's text over
/// `"<t>.<raw body>"`, hex, any `v1=` value), records what came, and answers the statuses it is told.
final class WebhookReceiver: Sendable {
    /// One request as received.
    struct Received: Sendable {
        var deliveryHeader: String
        var body: Data
        var timestamp: Int?
        var signatures: [String]
        var status: Int
    }

    private let state = Mutex<(received: [Received], answers: [Int], hold: Bool)>(([], [], false))

    init() {}

    /// The statuses to answer, one per request, then 204 for every further one (a 3xx points elsewhere).
    func answer(_ statuses: [Int]) { state.withLock { $0.answers = statuses } }

    /// While true, requests are received and recorded but not answered (until it is false again).
    func hold(_ on: Bool) { state.withLock { $0.hold = on } }

    var received: [Received] { state.withLock { $0.received } }

    /// The `v1=` values of `signatures` that `secret` produces for `body` at `timestamp`.
    static func verifies(_ request: Received, secret: String) -> Bool {
        guard let timestamp = request.timestamp else { return false }
        var message = Data("\(timestamp).".utf8)
        message.append(request.body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        let expected = mac.map { String(format: "%02x", $0) }.joined()
        return request.signatures.contains(expected)
    }

    /// Runs the receiver for the duration of `body`, which gets its URL.
    func run<Value: Sendable>(_ body: @Sendable (String) async throws -> Value) async throws -> Value {
        let router = Router()
        router.post("hook") { request, context -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let header = request.headers[HTTPField.Name("Jiebang-Signature")!] ?? ""
            var timestamp: Int?
            var signatures: [String] = []
            for part in header.split(separator: ",") {
                if part.hasPrefix("t=") { timestamp = Int(part.dropFirst(2)) }
                if part.hasPrefix("v1=") { signatures.append(String(part.dropFirst(3))) }
            }
            let (status, hold) = self.state.withLock { state -> (Int, Bool) in
                let status = state.answers.isEmpty ? 204 : state.answers.removeFirst()
                state.received.append(
                    Received(
                        deliveryHeader: request.headers[HTTPField.Name("Jiebang-Delivery")!] ?? "",
                        body: Data(buffer.readableBytesView), timestamp: timestamp, signatures: signatures, status: status))
                return (status, state.hold)
            }
            if hold {
                while self.state.withLock({ $0.hold }) { try await Task.sleep(for: .milliseconds(50)) }
            }
            var headers = HTTPFields()
            if (300..<400).contains(status) { headers[.location] = "http://127.0.0.1:9/elsewhere" }
            return Response(status: .init(code: status), headers: headers)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: Logger(label: "receiver"))
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            return try await body("http://127.0.0.1:\(port)/hook")
        }
    }
}

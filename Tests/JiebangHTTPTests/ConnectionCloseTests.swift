import Foundation
import JiebangTesting
import Testing

@testable import JiebangHTTP

@Suite("Connections the client asks to close")
struct ConnectionCloseTests {
    @Test(
        "An HTTP/1.0 request without keep-alive, or Connection: Close or TE, close, gets its answers and then the connection closes at once",
        arguments: [
            ("GET /healthz HTTP/1.0\r\n\r\n", [200]),
            ("GET /healthz HTTP/1.0\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n", [200]),
            ("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: Close\r\n\r\n", [200]),
            ("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: TE, close\r\nTE: trailers\r\n\r\n", [200]),
            ("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n", [200, 200]),
            (
                "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                [200, 200]
            ),
        ])
    func closesWhenAsked(request: String, statuses: [Int]) async throws {
        // With an idle timeout of ten minutes, a connection closed within the exchange's five-second wait for
        // input was closed after its answer.
        try await ConnectionLimitsTests.withLiveServer { $0.idleTimeout = .seconds(600) } _: { port in
            let answer = try await onOwnThread { try MalformedRequestTests.exchange(port: port, request) }
            #expect(answer.responses.map(\.status) == statuses)
            #expect(answer.closed)
        }
    }

    @Test("An HTTP/1.1 request, and an HTTP/1.0 one with keep-alive, keep their connection open after the answer")
    func keptAliveOtherwise() async throws {
        try await ConnectionLimitsTests.withLiveServer { _ in
        } _: { port in
            for request in ["GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"] {
                let answer = try await onOwnThread { try MalformedRequestTests.exchange(port: port, request, readUntilClose: false) }
                #expect(answer.responses.map(\.status) == [200], "\(request)")
                #expect(!answer.closed, "\(request)")
            }
        }
    }
}

import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import JiebangHTTP
import JiebangTesting
import Logging
import Postgres
import Testing

@Suite("Idle clients and an absent database")
struct ConnectionLimitsTests {
    @Test("A client that connects and sends nothing is disconnected after the idle timeout", .timeLimit(.minutes(1)))
    func idleClientIsClosed() async throws {
        try await TestDatabase.withFreshDatabase { db in
            var configuration = HTTPConfiguration(port: 0)
            configuration.idleTimeout = .milliseconds(300)
            let app = buildApplication(configuration: configuration, database: db, logger: Logger(label: "test"))
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let started = ContinuousClock.now
                let closed = try await Task.detached { try Self.waitForClose(port: port, within: 10) }.value
                #expect(closed)
                #expect(ContinuousClock.now - started < .seconds(9))
            }
        }
    }

    @Test("An API request while the database cannot be reached answers 503 problem+json with Retry-After")
    func absentDatabaseAnswers503() async throws {
        let db = PostgresClient(
            configuration: PostgresConfiguration(connectionString: "host=/nonexistent port=1", minimumConnections: 0))
        let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/board/challenges", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                #expect(response.headers[.retryAfter] == "1")
            }
        }
    }

    /// Opens a TCP connection, sends nothing, and says whether the server closed it within `seconds`.
    static func waitForClose(port: Int, within seconds: Int) throws -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, 0) == 0
    }
}

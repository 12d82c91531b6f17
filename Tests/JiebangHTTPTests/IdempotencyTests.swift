import Crypto
import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Logging
import Postgres
import Testing

@testable import JiebangHTTP

@Suite("Idempotency keys")
struct IdempotencyTests {
    static func registration(code: String, login: String) throws -> [String: Any] {
        [
            "unit": [
                "kind": "enterprise", "name": "兰州新材料科技有限公司", "creditCode": try CreditCode.completing(code).value,
                "regionCode": "620100", "natures": ["private"], "contactName": "王强", "contactPhone": "0931-8000001",
                "contactEmail": "wang@example.cn",
            ],
            "admin": ["login": login, "displayName": "王强", "password": "a long enough password"],
        ]
    }

    /// Sends one HTTP/1.1 request from `source` (a loopback address) to the server on `port`, and
    /// returns the status and headers (lower-cased names) of its answer.
    static func send(from source: String, port: Int, path: String, key: String, body: Data) throws -> (Int, [String: String]) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var wait = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        func address(_ text: String, _ port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, text, &address.sin_addr)
            return address
        }
        var local = address(source, 0)
        var remote = address("127.0.0.1", port)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let head =
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nIdempotency-Key: \(key)\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let request = Data(head.utf8) + body
        _ = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let read = recv(fd, &buffer, buffer.count, 0)
            if read <= 0 { break }
            answer.append(contentsOf: buffer[0..<read])
        }
        let text = String(decoding: answer, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    @Test(
        "A replay answers with the first answer's Location and ETag, and the stored fingerprint is an HMAC under the server's secret, not a plain SHA-256"
    )
    func replayCarriesHeadersAndFingerprintIsKeyed() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let body = try JSONSerialization.data(
                    withJSONObject: try Self.registration(code: "91620100MA7REPLA1", login: "wang.replay"))
                let first = try await client.call(.post, "/v1/units", raw: body, headers: [Creation.header: "unit-1"])
                #expect(first.status == .created)
                let second = try await client.call(.post, "/v1/units", raw: body, headers: [Creation.header: "unit-1"])
                #expect(second.status == .created)
                #expect(second.headers[.location] == first.headers[.location])
                #expect(second.headers[.location]?.hasPrefix("/v1/units/") == true)
                #expect(second.etag == first.etag)
                #expect(second.etag == "\"1\"")
                #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                #expect(second.object["id"] as? Int == first.object["id"] as? Int)

                let stored = try await db.query("SELECT request_hash FROM idempotency_keys WHERE key = 'unit-1'").first!.decode(Data.self)
                let secret = try await db.query("SELECT value FROM server_secrets WHERE name = 'idempotency'").first!.decode(Data.self)
                let message = Data("POST /v1/units\n".utf8) + body
                #expect(stored != Data(SHA256.hash(data: message)))
                #expect(stored == Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))))
                #expect(secret.count == 32)
            }
        }
    }

    @Test(
        "The first keyed requests of a new database, sent at once, all find the one server secret (none crashes on a secret another made)")
    func firstKeyedRequestsAtOnce() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let statuses = try await withThrowingTaskGroup(of: UInt16.self) { group in
                    for index in 0..<12 {
                        group.addTask {
                            let body = try JSONSerialization.data(
                                withJSONObject: try Self.registration(
                                    code: "91620100MA8" + String(format: "%06d", index), login: "first\(index)"))
                            return UInt16(
                                try await client.call(.post, "/v1/units", raw: body, headers: [Creation.header: "first-\(index)"]).status
                                    .code)
                        }
                    }
                    return try await group.reduce(into: [UInt16]()) { $0.append($1) }
                }
                #expect(statuses == Array(repeating: 201, count: 12), "\(statuses)")
                let secrets = try await db.query("SELECT count(*) FROM server_secrets").first!.decode(Int.self)
                #expect(secrets == 1)
            }
        }
    }

    @Test("Two anonymous callers using the same key each get their own answer; the same caller's retry replays")
    func anonymousCallersHaveTheirOwnScope() async throws {
        try await TestDatabase.withFreshDatabase { db in
            var configuration = HTTPConfiguration(port: 0)
            configuration.idleTimeout = .seconds(30)
            let app = buildApplication(
                configuration: configuration, database: db, passwordHasher: .fastForTests, logger: Logger(label: "test"))
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let first = try JSONSerialization.data(withJSONObject: try Self.registration(code: "91620100MA7ANANA1", login: "anon.one"))
                let second = try JSONSerialization.data(withJSONObject: try Self.registration(code: "91620100MA7ANANB1", login: "anon.two"))
                let (one, oneHeaders) = try await onOwnThread {
                    try Self.send(from: "127.0.0.2", port: port, path: "/v1/units", key: "k", body: first)
                }
                let (two, twoHeaders) = try await onOwnThread {
                    try Self.send(from: "127.0.0.3", port: port, path: "/v1/units", key: "k", body: second)
                }
                #expect(one == 201)
                #expect(two == 201, "another caller's key does not collide with the first's (no 409, no replay of its answer)")
                #expect(oneHeaders["location"] != twoHeaders["location"])
                #expect(twoHeaders["idempotent-replayed"] == nil)
                let (again, againHeaders) = try await onOwnThread {
                    try Self.send(from: "127.0.0.2", port: port, path: "/v1/units", key: "k", body: first)
                }
                #expect(again == 201)
                #expect(againHeaders["idempotent-replayed"] == "true")
                #expect(againHeaders["location"] == oneHeaders["location"])
                let scopes = try await db.query("SELECT scope FROM idempotency_keys ORDER BY scope").map { try $0.decode(String.self) }
                #expect(scopes == ["anonymous:127.0.0.2", "anonymous:127.0.0.3"])
                let units = try await db.query("SELECT count(*) FROM units").first!.decode(Int.self)
                #expect(units == 2)
            }
        }
    }
}

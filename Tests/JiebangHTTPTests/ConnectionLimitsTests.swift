import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import JiebangHTTP
import JiebangTesting
import Logging
import Postgres
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Idle clients and an absent database")
struct ConnectionLimitsTests {
    @Test("A client that connects and sends nothing is disconnected after the idle timeout", .timeLimit(.minutes(1)))
    func idleClientIsClosed() async throws {
        try await Self.withLiveServer { configuration in
            configuration.idleTimeout = .milliseconds(300)
        } _: { port in
            let started = ContinuousClock.now
            let closed = try await onOwnThread { try Self.waitForClose(port: port, within: 10) }
            #expect(closed)
            #expect(ContinuousClock.now - started < .seconds(9))
        }
    }

    @Test(
        "A client sending its request head, or its body, one byte a second is cut off at the deadline; a prompt request is answered",
        .timeLimit(.minutes(1)))
    func slowClientIsCutOff() async throws {
        try await Self.withLiveServer { configuration in
            configuration.requestHeadTimeout = .seconds(2)
            configuration.requestBodyTimeout = .seconds(2)
        } _: { port in
            let head = try await onOwnThread {
                try Self.trickle(
                    port: port, prefix: "",
                    trickle: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + String(repeating: "a", count: 40))
            }
            #expect(head != nil, "a head sent one byte a second held its connection")
            #expect((1.5...6).contains(head ?? 0), "closed after \(head ?? 0) s")
            let body = try await onOwnThread {
                try Self.trickle(
                    port: port,
                    prefix:
                        "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n",
                    trickle: String(repeating: " ", count: 40))
            }
            #expect(body != nil, "a body sent one byte a second held its connection")
            #expect((1.5...6).contains(body ?? 0), "closed after \(body ?? 0) s")
            // A prompt request on a new connection is answered as usual. (The test client's own connection sat idle
            // past the head deadline, so it was closed too: that is the deadline doing its work.)
            let (_, response) = try await URLSession(configuration: .ephemeral).data(
                from: URL(string: "http://127.0.0.1:\(port)/healthz")!)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
        }
    }

    @Test(
        "A keep-alive connection whose requests come within the head deadline of each other stays open past the first deadline, and closes a deadline after its last answer",
        .timeLimit(.minutes(1)))
    func keptAliveConnectionMovesItsDeadline() async throws {
        try await Self.withLiveServer { configuration in
            configuration.requestHeadTimeout = .seconds(2)
        } _: { port in
            let (answered, closedAfter) = try await onOwnThread { () throws -> ([Bool], Double) in
                let socket = try Self.connected(port: port)
                defer { close(socket) }
                // Four requests 1.2 s apart: the deadline armed when the connection opened (2 s) passes
                // during the third wait, and each answer moved it 2 s on.
                var answered: [Bool] = []
                for index in 0..<4 {
                    if index > 0 { usleep(1_200_000) }
                    answered.append(Self.exchange(socket, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
                }
                let idle = ContinuousClock.now
                var timeout = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var byte: UInt8 = 0
                let closed = recv(socket, &byte, 1, 0) == 0
                let waited = ContinuousClock.now - idle
                let seconds = Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18
                return (answered, closed ? seconds : .infinity)
            }
            #expect(answered == [true, true, true, true], "answers on the one connection: \(answered)")
            #expect((1.5...4).contains(closedAfter), "closed \(closedAfter) s after the last answer")
        }
    }

    @Test("The server answers on as many HTTP threads as configured, one or several", arguments: [1, 3])
    func answersOnConfiguredThreads(threads: Int) async throws {
        try await Self.withLiveServer { configuration in
            configuration.threads = threads
        } _: { port in
            let answered = try await onOwnThread { () throws -> [Bool] in
                try (0..<6).map { _ in
                    let socket = try Self.connected(port: port)
                    defer { close(socket) }
                    return Self.exchange(socket, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                }
            }
            #expect(answered == Array(repeating: true, count: 6))
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
    /// Sends `prefix`, then `trickle` one byte a second, and returns after how many seconds the server
    /// closed the connection (nil if it stayed open through the whole trickle).
    static func trickle(port: Int, prefix: String, trickle: String) throws -> Double? {
        let socket = try Self.connected(port: port)
        defer { close(socket) }
        let started = ContinuousClock.now
        func elapsed() -> Double {
            let duration = ContinuousClock.now - started
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        _ = prefix.utf8CString.withUnsafeBufferPointer { Glibc.send(socket, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        for byte in trickle.utf8 {
            var one = byte
            if Glibc.send(socket, &one, 1, Int32(MSG_NOSIGNAL)) != 1 { return elapsed() }
            // Has the server closed? A peek that finds the end of the stream says so.
            var pollDescriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            if poll(&pollDescriptor, 1, 1_000) > 0 {
                var peeked: UInt8 = 0
                if recv(socket, &peeked, 1, Int32(MSG_PEEK)) <= 0 { return elapsed() }
            }
        }
        return nil
    }

    /// Sends `request` on `socket` and says whether a 200 answer came back whole within 2 s (its head and
    /// as many bytes of body as its Content-Length says, so the next answer starts the next read).
    static func exchange(_ socket: Int32, _ request: String) -> Bool {
        let sent = request.utf8CString.withUnsafeBufferPointer {
            Glibc.send(socket, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL))
        }
        guard sent == request.utf8.count else { return false }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let text = String(decoding: received, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n") {
                let head = text[..<headEnd.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
                if let length, received.count >= text[..<headEnd.upperBound].utf8.count + length {
                    return text.hasPrefix("HTTP/1.1 200")
                }
            }
            var pollDescriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&pollDescriptor, 1, 2_000) > 0 else { return false }
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { return false }
            received += buffer[..<count]
        }
    }

    /// Runs `body` with the port of a live server on a fresh database, configured by `configure`.
    static func withLiveServer(
        _ configure: (inout HTTPConfiguration) -> Void, _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        var configuration = HTTPConfiguration(port: 0)
        configure(&configuration)
        let settings = configuration
        try await TestDatabase.withFreshDatabase { db in
            let app = buildApplication(configuration: settings, database: db, logger: Logger(label: "test"))
            try await app.test(.live) { client in
                try await body(try #require(client.port))
            }
        }
    }

    /// A TCP socket connected to 127.0.0.1:`port`; the caller closes it.
    static func connected(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(socket)
            throw POSIXError(.ECONNREFUSED)
        }
        return socket
    }

    static func waitForClose(port: Int, within seconds: Int) throws -> Bool {
        let socket = try Self.connected(port: port)
        defer { close(socket) }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, 0) == 0
    }
}

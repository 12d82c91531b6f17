import Foundation
import Glibc
import JiebangTesting
import NIOHTTP1
import Testing

@testable import JiebangHTTP

@Suite("Requests the HTTP parser refuses")
struct MalformedRequestTests {
    @Test("Raw UTF-8 in the URL is answered 400 problem+json naming the request target and how to send it, then the connection closes")
    func rawUTF8InTheURL() async throws {
        try await ConnectionLimitsTests.withLiveServer { _ in
        } _: { port in
            let answer = try await onOwnThread {
                try Self.exchange(port: port, "GET /v1/board/challenges?q=稀土 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            }
            #expect(answer.closed)
            let problem = try #require(answer.responses.first)
            #expect(answer.responses.count == 1)
            #expect(problem.status == 400)
            #expect(problem.headers["content-type"] == "application/problem+json; charset=utf-8")
            #expect(problem.headers["connection"] == "close")
            #expect(problem.headers["x-content-type-options"] == "nosniff")
            let document = try #require(try JSONSerialization.jsonObject(with: problem.body) as? [String: Any])
            #expect(document["status"] as? Int == 400)
            #expect(document["title"] as? String == "Malformed request")
            let errors = try #require(document["errors"] as? [[String: String]])
            #expect(errors.first?["field"] == "request-target")
            #expect(errors.first?["message"]?.contains("%E7%A8%80%E5%9C%9F") == true)
        }
    }

    @Test("A pipelined good request is answered first, and the malformed one after it with its problem")
    func pipelinedAnswersKeepTheirOrder() async throws {
        try await ConnectionLimitsTests.withLiveServer { _ in
        } _: { port in
            let answer = try await onOwnThread {
                try Self.exchange(
                    port: port,
                    "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n")
            }
            #expect(answer.closed)
            #expect(answer.responses.map(\.status) == [200, 400])
            let problem = try #require(answer.responses.last)
            let document = try #require(try JSONSerialization.jsonObject(with: problem.body) as? [String: Any])
            let errors = try #require(document["errors"] as? [[String: String]])
            #expect(errors.first?["field"] == "headers")
        }
    }

    @Test("A chunked body with a malformed chunk size is answered 400 problem+json naming the body, not 500")
    func malformedChunkIsBadInput() async throws {
        try await ConnectionLimitsTests.withLiveServer { _ in
        } _: { port in
            let answer = try await onOwnThread {
                try Self.exchange(port: port, Self.malformedChunk(to: "/v1/sessions", type: "application/json"))
            }
            #expect(answer.closed)
            let problem = try #require(answer.responses.first)
            #expect(answer.responses.count == 1)
            #expect(problem.status == 400)
            #expect(problem.headers["content-type"] == "application/problem+json; charset=utf-8")
            let document = try #require(try JSONSerialization.jsonObject(with: problem.body) as? [String: Any])
            let errors = try #require(document["errors"] as? [[String: String]])
            #expect(errors.first?["field"] == "body")
        }
    }

    @Test(
        "A request answered before its body is read (401, 404, a GET), then refused by the parser in its body, gets that one answer and no second 400; the connection closes",
        arguments: [
            ("POST /v1/bids/1/submit HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n", 401),
            ("POST /v1/nowhere HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n", 404),
            ("GET /healthz HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: identity\r\n\r\n", 200),
        ])
    func oneAnswerARequest(request: String, status: Int) async throws {
        try await ConnectionLimitsTests.withLiveServer { _ in
        } _: { port in
            let answer = try await onOwnThread { try Self.exchange(port: port, request) }
            #expect(answer.closed)
            #expect(answer.responses.map(\.status) == [status])
        }
    }

    @Test("A form posted with a malformed chunk size gets the 400 error page, not 500")
    func malformedChunkToAPageIsBadInput() async throws {
        try await ConnectionLimitsTests.withLiveServer { _ in
        } _: { port in
            let answer = try await onOwnThread {
                try Self.exchange(port: port, Self.malformedChunk(to: "/sign-in", type: "application/x-www-form-urlencoded"))
            }
            let page = try #require(answer.responses.first)
            #expect(page.status == 400)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        }
    }

    /// A chunked POST of `type` to `path` whose first chunk size is not hexadecimal.
    static func malformedChunk(to path: String, type: String) -> String {
        "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: \(type)\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "zz\r\n{}\r\n0\r\n\r\n"
    }

    @Test("A 400 the API itself gives is left as it was, and the connection stays open")
    func applicationBadRequestIsUntouched() async throws {
        try await ConnectionLimitsTests.withLiveServer { _ in
        } _: { port in
            let answer = try await onOwnThread {
                try Self.exchange(
                    port: port, "GET /v1/board/challenges?limit=-1 HTTP/1.1\r\nHost: localhost\r\n\r\n", readUntilClose: false)
            }
            #expect(!answer.closed)
            let problem = try #require(answer.responses.first)
            #expect(problem.status == 400)
            let document = try #require(try JSONSerialization.jsonObject(with: problem.body) as? [String: Any])
            let errors = try #require(document["errors"] as? [[String: String]])
            #expect(errors.first?["field"] == "limit")
        }
    }

    @Test(
        "Each parser error names the part of the request at fault",
        arguments: [
            (HTTPParserError.invalidURL, "request-target"), (.invalidMethod, "method"),
            (.invalidVersion, "version"), (.headerOverflow, "headers"), (.invalidHeaderToken, "headers"),
            (.invalidContentLength, "Content-Length"), (.invalidChunkSize, "body"), (.lfExpected, "request"),
        ])
    func parserErrorsNameTheirField(error: HTTPParserError, field: String) {
        let problem = MalformedRequestHandler.problem(for: error)
        #expect(problem.statusCode == 400)
        #expect(problem.errors?.map(\.field) == [field])
        #expect(problem.errors?.first?.message.isEmpty == false)
    }

    /// One answer read off the socket.
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
    }

    /// Sends `request` and reads the answers: until the server closes the connection, or for one answer when
    /// `readUntilClose` is false (then `closed` says whether the server closed within half a second after it).
    static func exchange(port: Int, _ request: String, readUntilClose: Bool = true) throws -> (responses: [Answer], closed: Bool) {
        let socket = try ConnectionLimitsTests.connected(port: port)
        defer { close(socket) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        guard Glibc.send(socket, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw POSIXError(.EPIPE) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var closed = false
        while true {
            if !readUntilClose, !parse(received).isEmpty {
                var shortWait = timeval(tv_sec: 0, tv_usec: 500_000)
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &shortWait, socklen_t(MemoryLayout<timeval>.size))
                closed = recv(socket, &buffer, buffer.count, 0) == 0
                break
            }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count == 0 {
                closed = true
                break
            }
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        return (parse(received), closed)
    }

    /// The whole answers (head and `Content-Length` bytes of body) in `bytes`.
    static func parse(_ bytes: [UInt8]) -> [Answer] {
        var answers: [Answer] = []
        var rest = bytes[...]
        let separator = Array("\r\n\r\n".utf8)
        while let headEnd = rest.indices.first(where: { rest[$0...].starts(with: separator) }) {
            let head = String(decoding: rest[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = headEnd + separator.count
            guard rest.endIndex - bodyStart >= length else { break }
            let status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            answers.append(Answer(status: status, headers: headers, body: Data(rest[bodyStart..<bodyStart + length])))
            rest = rest[(bodyStart + length)...]
        }
        return answers
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JiebangTesting
import Testing

@testable import JiebangHTTP

@Suite("A method a path does not answer")
struct MethodNotAllowedTests {
    @Test(
        "A path a route answers with other methods is a 405 naming the method with Allow listing them (HEAD beside GET), as a page for a page; an unknown path is still 404"
    )
    func methodNotAllowed() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                for (method, path, allow) in [
                    (HTTPRequest.Method.delete, "/v1/board/challenges", "GET, HEAD"), (.post, "/v1/board/challenges/1", "GET, HEAD"),
                    (.get, "/v1/sessions", "POST"), (.patch, "/healthz", "GET, HEAD"), (.get, "/v1/bids/7/submit", "POST"),
                    (.options, "/v1/bids/7", "GET, HEAD, PUT"),
                ] {
                    try await client.execute(uri: path, method: method) { response in
                        #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                        #expect(response.headers[.allow] == allow, "\(method) \(path)")
                        #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                        let body = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                        let errors = body?["errors"] as? [[String: String]]
                        #expect(errors?.first?["field"] == "method" && errors?.first?["message"]?.hasPrefix(method.rawValue) == true)
                    }
                }
                // An empty path parameter is a 404 as before, not another route's 405.
                for (method, path) in [
                    (HTTPRequest.Method.delete, "/v1/nowhere"), (.get, "/v1/board/challenges/1/x"), (.put, "/v1/notifications/mutes/"),
                    (.delete, "/v1/board/challenges/"),
                ] {
                    try await client.execute(uri: path, method: method) { response in
                        #expect(response.status == .notFound, "\(method) \(path)")
                        #expect(response.headers[.allow] == nil)
                    }
                }
                try await client.execute(uri: "/sign-in", method: .delete, headers: [.accept: "text/html"]) { response in
                    #expect(response.status == .methodNotAllowed)
                    #expect(response.headers[.allow] == "GET, HEAD, POST")
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(String(buffer: response.body).contains("本页不接受这种请求方式"))
                }
                try await client.execute(uri: "/v1/board/challenges", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test("A route path matches a request path literally by segment, a capture matching any one segment and ** the rest")
    func routePathMatching() {
        func matches(_ route: String, _ path: String) -> Bool {
            RouteMethods.matches(RouterPath(route), path.split(separator: "/", omittingEmptySubsequences: true))
        }
        #expect(matches("/v1/bids/:id", "/v1/bids/7"))
        #expect(matches("/v1/bids/{id}/submit", "/v1/bids/7/submit"))
        #expect(!matches("/v1/bids/:id", "/v1/bids/7/submit"))
        #expect(!matches("/v1/bids/:id", "/v1/bids"))
        #expect(!matches("/v1/bids", "/v1/bid"))
        #expect(matches("/static/**", "/static/css/site.css"))
        #expect(matches("/", "/"))
    }
}

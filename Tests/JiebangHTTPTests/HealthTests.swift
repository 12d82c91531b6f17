import Foundation
import Hummingbird
import HummingbirdTesting
import JiebangHTTP
import JiebangTesting
import Logging
import Metrics
import Postgres
import Prometheus
import Testing

@Suite("Health and readiness")
struct HealthTests {
    @Test("/healthz answers 200 and /readyz answers 200 when the database is reachable")
    func ready() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
                // A loaded machine may take longer than the readiness budget for one probe: a few tries.
                var answer = try await client.execute(uri: "/readyz", method: .get)
                for _ in 0..<5 where answer.status == .serviceUnavailable {
                    try await Task.sleep(for: .seconds(1))
                    answer = try await client.execute(uri: "/readyz", method: .get)
                }
                #expect(answer.status == .ok)
                #expect(String(buffer: answer.body) == "ready\n")
            }
        }
    }

    @Test("HEAD is answered as GET without the body, for health checks, the API and the pages; an unknown path is 404")
    func headIsAnsweredAsGet() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.live) { client in
                for uri in ["/healthz", "/v1/board/challenges", "/"] {
                    let get = try await client.execute(uri: uri, method: .get)
                    let head = try await client.execute(uri: uri, method: .head)
                    #expect(get.status == .ok, "\(uri)")
                    #expect(head.status == .ok, "\(uri)")
                    #expect(head.body.readableBytes == 0, "\(uri)")
                    #expect(head.headers[.contentType] == get.headers[.contentType], "\(uri)")
                    #expect(head.headers[.contentLength] == String(get.body.readableBytes), "\(uri)")
                }
                let unknown = try await client.execute(uri: "/v1/no-such-thing", method: .head)
                #expect(unknown.status == .notFound)
                #expect(unknown.body.readableBytes == 0)
            }
        }
    }

    @Test("/readyz answers 503 as problem+json when the database cannot be reached")
    func notReady() async throws {
        let db = PostgresClient(
            configuration: PostgresConfiguration(connectionString: "host=/nonexistent port=1", minimumConnections: 0))
        let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                let problem = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect(problem?["status"] as? Int == 503)
                #expect((problem?["detail"] as? String)?.isEmpty == false)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("/metrics reports the registry in Prometheus text format, including the HTTP metrics")
    func metrics() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "jiebang_test_marker_total").increment()
        let db = PostgresClient(configuration: PostgresConfiguration(connectionString: "host=/nonexistent port=1", minimumConnections: 0))
        let app = buildApplication(configuration: HTTPConfiguration(), database: db, metrics: registry, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                #expect(String(buffer: response.body).contains("jiebang_test_marker_total 1"))
            }
        }
    }

    @Test("Each request is counted and timed by route, method and status, errors apart, with none left in flight")
    func requestMetrics() async throws {
        let registry = PrometheusCollectorRegistry()
        try await withMetricsFactory(PrometheusMetricsFactory(registry: registry)) {
            let db = PostgresClient(
                configuration: PostgresConfiguration(connectionString: "host=/nonexistent port=1", minimumConnections: 0))
            let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                for _ in 0..<3 {
                    try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
                }
                try await client.execute(uri: "/v1/nothing-here", method: .get) { #expect($0.status == .notFound) }
            }
        }
        let text = registry.emitToString()
        let healthz = #"http_route="/healthz",http_request_method="GET",http_response_status_code="200""#
        #expect(text.contains("hb_requests{\(healthz)} 3"))
        #expect(text.contains("http_server_request_duration_count{\(healthz)} 3"))
        #expect(text.contains(#"hb_request_errors{http_route="NotFound",http_request_method="GET",error_type="404"} 1"#))
        #expect(!text.contains(#"hb_request_errors{http_route="/healthz""#))
        #expect(text.contains(#"http_server_active_requests{http_request_method="GET"} 0"#))
    }

    @Test("An unknown route is a 404 problem document, not a bare error")
    func unknownRoute() async throws {
        let db = PostgresClient(configuration: PostgresConfiguration(connectionString: "host=/nonexistent port=1", minimumConnections: 0))
        let app = buildApplication(configuration: HTTPConfiguration(), database: db, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            }
        }
    }
}

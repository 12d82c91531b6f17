import Hummingbird
import Prometheus

/// `/metrics`: every metric of the process in Prometheus' text format.
struct MetricsController {
    let registry: PrometheusCollectorRegistry

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("metrics", use: metrics)
    }

    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16_384)
        registry.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}

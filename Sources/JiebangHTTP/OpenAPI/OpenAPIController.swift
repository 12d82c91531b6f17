import Hummingbird

/// Serves the API's OpenAPI document at `/openapi.yaml`.
struct OpenAPIController {
    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
    }
}

/// The API's OpenAPI document (`openapi.yaml` beside this file), compiled into the binary.
///
/// Tests check that every route the router serves is in the document and every operation
/// of the document is served; schemathesis checks in CI that responses conform to it.
public enum OpenAPIDocument {
    /// The document's YAML text.
    public static let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)

    /// Every operation of the document as `METHOD /path/{param}`, read from its `paths` section.
    public static var operations: Set<String> {
        var operations: Set<String> = []
        var path: String?
        var inPaths = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" {
                inPaths = true
                continue
            }
            guard inPaths else { continue }
            if let first = line.first, first != " " { break }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if ["get", "put", "post", "delete", "patch"].contains(key) {
                    operations.insert("\(key.uppercased()) \(path)")
                }
            }
        }
        return operations
    }
}

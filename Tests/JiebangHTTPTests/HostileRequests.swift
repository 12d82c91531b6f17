import Foundation

/// One operation of the OpenAPI document and what a request to it carries.
struct DocumentedOperation: Sendable {
    /// A parameter of the operation.
    struct Parameter: Sendable {
        var name: String
        var location: String
        var schema: YAMLNode
        var required: Bool
    }

    var method: String
    var path: String
    var parameters: [Parameter]
    /// The resolved schema of an `application/json` body.
    var body: YAMLNode?
    /// Whether the body is raw bytes (an upload).
    var binaryBody: Bool
    /// The documented statuses, such as `200` and `422`.
    var statuses: Set<String>

    /// Every operation of `document` (a parsed OpenAPI document), with references resolved.
    static func all(in document: YAMLNode) -> [DocumentedOperation] {
        var operations: [DocumentedOperation] = []
        for (path, item) in document["paths"]?.entries ?? [] {
            let shared = item["parameters"]?.items ?? []
            for (method, operation) in item.entries where ["get", "put", "post", "delete", "patch"].contains(method) {
                let parameters = (shared + (operation["parameters"]?.items ?? [])).map { node in
                    let parameter = resolve(node, in: document)
                    return Parameter(
                        name: parameter["name"]?.string ?? "", location: parameter["in"]?.string ?? "",
                        schema: resolve(parameter["schema"] ?? .map([]), in: document),
                        required: parameter["required"]?.string == "true")
                }
                let content = operation["requestBody"]?["content"]
                operations.append(
                    DocumentedOperation(
                        method: method.uppercased(), path: path, parameters: parameters,
                        body: content?["application/json"]?["schema"].map { resolve($0, in: document) },
                        binaryBody: content != nil && content?["application/json"] == nil,
                        statuses: Set(operation["responses"]?.entries.map(\.key) ?? [])))
            }
        }
        return operations
    }

    /// `node`, or what its `$ref` points to (followed until it points no further).
    static func resolve(_ node: YAMLNode, in document: YAMLNode) -> YAMLNode {
        var node = node
        while let reference = node["$ref"]?.string, reference.hasPrefix("#/") {
            var target: YAMLNode? = document
            for key in reference.dropFirst(2).split(separator: "/") { target = target?[String(key)] }
            guard let target else { return node }
            node = target
        }
        return node
    }
}

/// JSON text built by hand, so that it can hold what no encoder writes: numbers such as `1e309`
/// or `-0`, integers past 64 bits, and NUL in strings and keys.
indirect enum JSONText: Sendable {
    case raw(String)
    case string(String)
    case array([JSONText])
    case object([(key: String, value: JSONText)])

    var text: String {
        switch self {
        case .raw(let text): text
        case .string(let text): Self.quoted(text)
        case .array(let items): "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let entries): "{" + entries.map { Self.quoted($0.key) + ":" + $0.value.text }.joined(separator: ",") + "}"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// This value with the value at `path` (keys and indexes) replaced by `value`.
    func replacing(_ path: ArraySlice<JSONPathStep>, with value: JSONText) -> JSONText {
        guard let step = path.first else { return value }
        switch (self, step) {
        case (.object(var entries), .key(let key)):
            if let index = entries.firstIndex(where: { $0.key == key }) {
                entries[index].value = entries[index].value.replacing(path.dropFirst(), with: value)
            }
            return .object(entries)
        case (.array(var items), .index(let index)) where index < items.count:
            items[index] = items[index].replacing(path.dropFirst(), with: value)
            return .array(items)
        default:
            return self
        }
    }
}

/// One step into a JSON value.
enum JSONPathStep: Sendable, Hashable {
    case key(String)
    case index(Int)
}

/// The values a hostile client sends, and a plausible value for every schema so the hostile one
/// reaches as deep as it can.
enum HostileValues {
    /// Strings a client can send wherever text goes.
    static let strings: [String] = [
        "\u{0}", "\u{0}稀土永磁材料制备技术", "稀土永磁材料制备技术\u{0}", "稀土\u{0}永磁材料制备技术",
        longText(10_000, alphabet: Array("abcdefghijklmnopqrstuvwxyz0123456789 -_.")),
        longText(10_000, alphabet: Array("稀土永磁材料高温稳定性提升氢能储运关键技术甘肃兰州白银金昌冶金有色装备制造")),
        "", "   ", "\t\n\r", "\u{1}\u{1F}\u{7F}\u{85}", "\u{FEFF}\u{202E}稀土",
        "-0", "NaN", "Infinity", "1e309", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "-9223372036854775808.1", "-300000000000000000.1",
        "-300000-01-01T00:00:00Z", "999999-12-31T00:00:00Z", "0000-01-01T00:00:00Z", "-4714-11-23T00:00:00Z",
        "294277-01-01T00:00:00Z", "1969-12-31T23:59:59.9999999Z",
    ]

    /// Numbers and other JSON tokens a client can send wherever a number goes.
    static let numbers: [String] = [
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "-18446744073709551616", "2147483648", "-2147483649", "1e309", "-1e309", "-0", "-0.0",
        "0", "-1", "0.5", "1e-400", "4.9e-324", "123456789012345678901234567890",
    ]

    /// Other JSON values that fit no field.
    static let others: [String] = ["null", "true", "[]", "{}", "[[[[[[[[[[]]]]]]]]]]"]

    /// What a path parameter is set to (already percent-encoded).
    static let pathValues: [String] = [
        "0", "-1", "-0", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "1e309", "NaN", "%00", "1%00", "%FF%FE", "%C3%28", "%20", "%EF%BC%91", String(repeating: "9", count: 10_000),
    ]

    /// Values a header can carry (printable: an HTTP client cannot send others).
    static let headerValues: [String] = [
        "", " ", String(repeating: "a", count: 10_000), "9223372036854775808", "\"-1\"", "\"0\"", "W/\"99999999999999999999\"",
        "\"1e309\"", "\"NaN\"", "W/", "\"", "%00",
    ]

    /// A deterministic text of `count` characters from `alphabet` that does not repeat (so it does
    /// not compress to nothing on its way into an index).
    static func longText(_ count: Int, alphabet: [Character]) -> String {
        var state: UInt64 = 2025
        var text = ""
        for _ in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text.append(alphabet[Int(state >> 33) % alphabet.count])
        }
        return text
    }

    /// A plausible value for a field called `name` with `schema`.
    static func example(_ schema: YAMLNode, name: String, document: YAMLNode, serial: Int) -> JSONText {
        let schema = DocumentedOperation.resolve(schema, in: document)
        if let properties = schema["properties"] {
            return .object(properties.entries.map { ($0.key, example($0.value, name: $0.key, document: document, serial: serial)) })
        }
        switch schema["type"]?.string {
        case "array":
            return .array([example(schema["items"] ?? .map([]), name: name, document: document, serial: serial)])
        case "integer", "number":
            if let minimum = schema["minimum"]?.string, minimum != "0" { return .raw(minimum) }
            if name == "year" { return .raw("2025") }
            if name.hasSuffix("Fen") { return .raw(name == "totalInvestmentFen" ? "1000000000" : "50000000") }
            return .raw("1")
        case "boolean":
            return .raw("true")
        default:
            if let first = schema["enum"]?.items.first?.string { return .string(first) }
            if schema["format"]?.string == "date-time" {
                return .string(name.lowercased().contains("open") ? "2025-01-01T00:00:00+08:00" : "2026-06-30T18:00:00+08:00")
            }
            return .string(exampleText(name: name, serial: serial))
        }
    }

    static func exampleText(name: String, serial: Int) -> String {
        switch name {
        case "creditCode": "91330100799655058B"
        case "regionCode": "620100"
        case "contactPhone": "0931-8888888"
        case "contactEmail": "hostile@example.cn"
        case "login": "hostile.\(serial)"
        // Too short to be hashed: a probe of another field of a body with a password stops at the
        // checks instead of costing the server a scrypt hash.
        case "password": "short"
        case "completionDeadline": "2027-12-31"
        default: "甘肃稀土永磁材料高温稳定性提升关键技术"
        }
    }

    /// Every field of `schema` (nested objects and the first item of arrays) with its schema.
    static func fields(
        _ schema: YAMLNode, document: YAMLNode, at path: [JSONPathStep] = []
    ) -> [(path: [JSONPathStep], schema: YAMLNode)] {
        let schema = DocumentedOperation.resolve(schema, in: document)
        var found: [(path: [JSONPathStep], schema: YAMLNode)] = path.isEmpty ? [] : [(path, schema)]
        if let properties = schema["properties"] {
            for (key, property) in properties.entries {
                found += fields(property, document: document, at: path + [.key(key)])
            }
        } else if schema["type"]?.string == "array", let items = schema["items"] {
            found += fields(items, document: document, at: path + [.index(0)])
        }
        return found
    }

    /// The hostile values for a field of `schema`.
    static func values(for schema: YAMLNode) -> [JSONText] {
        switch schema["type"]?.string {
        case "integer", "number":
            numbers.map(JSONText.raw) + ["", "\u{0}", "1e309", "NaN"].map(JSONText.string) + others.prefix(2).map(JSONText.raw)
        case "boolean":
            ["null", "0", "1e309"].map(JSONText.raw) + [JSONText.string("\u{0}")]
        case "array", "object", nil:
            others.map(JSONText.raw) + [.string("\u{0}"), .raw("1e309")]
        default:
            strings.map(JSONText.string) + ["9223372036854775808", "1e309", "-0", "null", "[]", "{}"].map(JSONText.raw)
        }
    }
}

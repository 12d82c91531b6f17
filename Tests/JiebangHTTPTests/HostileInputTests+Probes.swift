import Foundation

extension HostileInputTests {
    /// Characters sent as they are in a URL; everything else is percent-encoded.
    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// Query values: every hostile string (the 10,000 Chinese characters would make a 90 KB URL,
    /// so only the ASCII one is long), then bytes that are not UTF-8 and broken escapes.
    static let queryValues: [String] =
        HostileValues.strings.filter { $0.utf8.count < 20_000 }
        .map { $0.addingPercentEncoding(withAllowedCharacters: unreserved)! }
        + ["%FF%FE", "a%C3%28", "%ED%A0%80", "%", "%G1", "%0", "+", "a=b=c"]

    /// The requests that probe `operation`: one plausible request, then one per hostile value of each
    /// parameter and body field, then hostile bodies as a whole.
    static func probes(for operation: DocumentedOperation, document: YAMLNode) -> [Probe] {
        let name = "\(operation.method) \(operation.path)"
        let hashesPassword = operation.body.map {
            HostileValues.fields($0, document: document).contains { $0.path.last == .key("password") }
        } ?? false
        var serial = 0
        func nextSerial() -> Int {
            serial += 1
            return serial
        }
        func plainValue(_ parameter: DocumentedOperation.Parameter) -> String? {
            switch parameter.location {
            case "path": parameter.name == "regionCode" ? "620100" : "1"
            case "header" where parameter.name == "If-Match": "\"1\""
            case "header" where parameter.name == "Idempotency-Key": UUID().uuidString
            case "query" where parameter.required:
                HostileValues.example(parameter.schema, name: parameter.name, document: document, serial: 0).text
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            default: nil
            }
        }
        func probe(_ what: String, replacing target: String? = nil, with value: String? = nil, body: Data? = nil) -> Probe {
            var path = operation.path
            var query: [String] = []
            var headers: [String: String] = [:]
            for parameter in operation.parameters {
                let chosen = parameter.name == target ? value : plainValue(parameter)
                guard let chosen else { continue }
                switch parameter.location {
                case "path": path = path.replacingOccurrences(of: "{\(parameter.name)}", with: chosen)
                case "query": query.append("\(parameter.name)=\(chosen)")
                case "header": headers[parameter.name] = chosen
                default: break
                }
            }
            if operation.body != nil { headers["Content-Type"] = "application/json" }
            if operation.binaryBody { headers["Content-Type"] = "application/pdf" }
            let serial = nextSerial()
            let plainBody = operation.body.map {
                Data(HostileValues.example($0, name: "body", document: document, serial: serial).text.utf8)
            }
            return Probe(
                operation: name, what: what, method: operation.method, path: path, query: query.joined(separator: "&"),
                headers: headers, body: body ?? plainBody ?? (operation.binaryBody ? Data("%PDF-1.4\n".utf8) : nil),
                statuses: operation.statuses, hashesPassword: hashesPassword)
        }

        var probes = [probe("a plausible request")]
        for parameter in operation.parameters {
            let values: [String] =
                switch parameter.location {
                case "path":
                    HostileValues.pathValues
                        + (parameter.schema["type"]?.string == "string" ? queryValues.filter { $0.count < 1_000 } : [])
                case "query": queryValues
                default: HostileValues.headerValues
                }
            for value in values {
                probes.append(probe("\(parameter.name)=\(value.prefix(40))", replacing: parameter.name, with: value))
            }
        }
        if let schema = operation.body {
            let plain = HostileValues.example(schema, name: "body", document: document, serial: 0)
            for (path, fieldSchema) in HostileValues.fields(schema, document: document) {
                let field = path.map { step in
                    switch step {
                    case .key(let key): ".\(key)"
                    case .index(let index): "[\(index)]"
                    }
                }.joined()
                for value in HostileValues.values(for: fieldSchema) {
                    let body = plain.replacing(path[...], with: value)
                    probes.append(probe("\(field) = \(value.text.prefix(40))", body: Data(body.text.utf8)))
                }
            }
            for (what, body) in hostileBodies(plain) { probes.append(probe(what, body: body)) }
        }
        if operation.binaryBody {
            probes.append(probe("an empty upload", body: Data()))
            probes.append(probe("150 KB of bytes", body: Data(HostileValues.longText(150_000, alphabet: ["\0", "\u{FF}", "a"]).utf8)))
        }
        return probes
    }

    /// Whole bodies no client should send: not UTF-8, nested 10,000 deep, keys twice, NUL in a key,
    /// empty, a bare number too large for a double, and every field long at once.
    static func hostileBodies(_ plain: JSONText) -> [(String, Data)] {
        var bodies: [(String, Data)] = []
        let text = plain.text
        if let quote = text.firstIndex(of: ":").flatMap({ text[$0...].firstIndex(of: "\"") }) {
            var bytes = Data(text[...quote].utf8)
            bytes.append(contentsOf: [0xFF, 0xFE, 0xC3, 0x28, 0xED, 0xA0, 0x80])
            bytes.append(contentsOf: text[text.index(after: quote)...].utf8)
            bodies.append(("a string that is not UTF-8", bytes))
        }
        bodies.append(("10,000 nested arrays", Data((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8)))
        bodies.append(("10,000 nested objects", Data((String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)).utf8)))
        bodies.append(("10,000 unclosed arrays", Data(String(repeating: "[", count: 10_000).utf8)))
        if case .object(let entries) = plain {
            let twice = JSONText.object(entries + entries.map { ($0.key, JSONText.string("\u{0}")) })
            bodies.append(("every key twice, the second NUL", Data(twice.text.utf8)))
            let first = JSONText.object(entries.map { ($0.key, JSONText.string("\u{0}")) } + entries)
            bodies.append(("every key twice, the first NUL", Data(first.text.utf8)))
            bodies.append(("a NUL key", Data(JSONText.object([("\u{0}", .raw("1"))] + entries).text.utf8)))
            let length = min(10_000, 60_000 / max(1, entries.count))
            let long = entries.map { ($0.key, JSONText.string(HostileValues.longText(length, alphabet: Array("稀土永磁材料abc")))) }
            bodies.append(("every field \(length) characters", Data(JSONText.object(long).text.utf8)))
        }
        for raw in ["", " \n\t ", "null", "[]", "\"\\u0000\"", "1e309", "-0", "{", "\u{FEFF}{}", "{\"a\":\"\\ud800\"}"] {
            bodies.append(("the body \(raw.debugDescription)", Data(raw.utf8)))
        }
        return bodies
    }
}

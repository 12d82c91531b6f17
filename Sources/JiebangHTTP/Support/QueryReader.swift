import Hummingbird

/// Reads query parameters, collecting every bad one, then throws one 400 problem naming them all.
struct QueryReader {
    let parameters: Parameters
    private(set) var issues: [Problem.FieldError] = []

    init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    /// A positive whole number, or nil when absent.
    mutating func positive(_ name: String) -> Int? {
        guard let text = parameters[Substring(name)] else { return nil }
        guard let value = Int(text), value > 0 else {
            issues.append(.init(field: name, message: "must be a positive whole number"))
            return nil
        }
        return value
    }

    /// A page size from 1 to `maximum`, `defaultValue` when absent.
    mutating func limit(default defaultValue: Int, maximum: Int) -> Int {
        let value = positive("limit") ?? defaultValue
        if value > maximum { issues.append(.init(field: "limit", message: "must be at most \(maximum)")) }
        return min(value, maximum)
    }

    /// One of a closed set of values, or nil when absent.
    mutating func oneOf<T>(_ name: String, _ parse: (String) -> T?, expected: [String]) -> T? {
        guard let text = parameters[Substring(name)] else { return nil }
        guard let value = parse(String(text)) else {
            issues.append(.init(field: name, message: "must be one of \(expected.joined(separator: ", "))"))
            return nil
        }
        return value
    }

    /// A text of at most `maximumLength` characters, or nil when absent.
    mutating func text(_ name: String, maximumLength: Int) -> String? {
        guard let text = parameters[Substring(name)] else { return nil }
        guard text.count <= maximumLength else {
            issues.append(.init(field: name, message: "must have at most \(maximumLength) characters"))
            return nil
        }
        return String(text)
    }

    /// Throws the 400 problem if any parameter was bad.
    func check() throws {
        guard issues.isEmpty else {
            throw Problem(status: .badRequest, title: "Invalid query parameters", detail: "See errors.", errors: issues)
        }
    }
}

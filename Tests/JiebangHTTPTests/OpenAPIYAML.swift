/// A YAML node of the OpenAPI document, read by `OpenAPIYAML.parse`.
indirect enum YAMLNode: Sendable {
    case scalar(String)
    case list([YAMLNode])
    case map([(key: String, value: YAMLNode)])

    /// The value of `key` in a map.
    subscript(_ key: String) -> YAMLNode? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The text of a scalar.
    var string: String? {
        if case .scalar(let text) = self { return text }
        return nil
    }

    /// The items of a list (none for anything else).
    var items: [YAMLNode] {
        if case .list(let items) = self { return items }
        return []
    }

    /// The entries of a map (none for anything else).
    var entries: [(key: String, value: YAMLNode)] {
        if case .map(let entries) = self { return entries }
        return []
    }
}

/// Reads the subset of YAML the OpenAPI document is written in: block maps and lists by indentation,
/// flow maps and lists (which may span lines), plain and quoted scalars, and `|` block scalars.
///
/// A flow map's plain scalar ends at a comma, as YAML says, so a description with a comma loses its
/// tail (to a key without a value); the tests read no descriptions.
struct OpenAPIYAML {
    private var lines: [Substring]
    private var index = 0

    /// Parses `text`.
    static func parse(_ text: String) -> YAMLNode {
        var reader = OpenAPIYAML(lines: text.split(separator: "\n", omittingEmptySubsequences: false))
        return reader.block(minimumIndent: 0)
    }

    private init(lines: [Substring]) {
        self.lines = lines
    }

    private static func indent(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }

    private static func isBlank(_ line: Substring) -> Bool {
        let content = line.drop { $0 == " " }
        return content.isEmpty || content.hasPrefix("#")
    }

    private mutating func skipBlank() {
        while index < lines.count, Self.isBlank(lines[index]) { index += 1 }
    }

    private mutating func block(minimumIndent: Int) -> YAMLNode {
        skipBlank()
        guard index < lines.count, Self.indent(lines[index]) >= minimumIndent else { return .scalar("") }
        let indent = Self.indent(lines[index])
        let content = lines[index].dropFirst(indent)
        if content.hasPrefix("[") || content.hasPrefix("{") { return value(after: content, indent: indent) }
        return content == "-" || content.hasPrefix("- ") ? list(indent: indent) : map(indent: indent)
    }

    private mutating func map(indent: Int) -> YAMLNode {
        var entries: [(key: String, value: YAMLNode)] = []
        while true {
            skipBlank()
            guard index < lines.count, Self.indent(lines[index]) == indent else { break }
            let content = lines[index].dropFirst(indent)
            if content == "-" || content.hasPrefix("- ") { break }
            guard let (key, rest) = Self.splitKey(content) else {
                index += 1
                continue
            }
            entries.append((key, value(after: rest, indent: indent)))
        }
        return .map(entries)
    }

    private mutating func list(indent: Int) -> YAMLNode {
        var items: [YAMLNode] = []
        while true {
            skipBlank()
            guard index < lines.count, Self.indent(lines[index]) == indent else { break }
            let content = lines[index].dropFirst(indent)
            guard content == "-" || content.hasPrefix("- ") else { break }
            let rest = content.dropFirst(1).drop { $0 == " " }
            if rest.isEmpty {
                index += 1
                items.append(block(minimumIndent: indent + 1))
            } else if rest.hasPrefix("{") || rest.hasPrefix("[") || rest.hasPrefix("\"") || Self.splitKey(rest) == nil {
                items.append(value(after: rest, indent: indent))
            } else {
                let itemIndent = indent + (content.count - rest.count)
                lines[index] = Substring(String(repeating: " ", count: itemIndent) + rest)
                items.append(map(indent: itemIndent))
            }
        }
        return .list(items)
    }

    /// The value after `key:` on the current line (and the lines it continues on); moves past it.
    private mutating func value(after rest: Substring, indent: Int) -> YAMLNode {
        let rest = rest.trimmingSpaces
        if rest.isEmpty {
            index += 1
            skipBlank()
            guard index < lines.count else { return .scalar("") }
            let next = Self.indent(lines[index])
            let content = lines[index].dropFirst(next)
            if next > indent || (next == indent && (content == "-" || content.hasPrefix("- "))) {
                return block(minimumIndent: next)
            }
            return .scalar("")
        }
        if rest == "|" || rest == ">" || rest == "|-" || rest == ">-" {
            index += 1
            var text: [Substring] = []
            while index < lines.count, Self.isBlank(lines[index]) || Self.indent(lines[index]) > indent {
                text.append(lines[index].drop { $0 == " " })
                index += 1
            }
            return .scalar(text.joined(separator: "\n"))
        }
        if rest.hasPrefix("{") || rest.hasPrefix("[") {
            var text = String(rest)
            index += 1
            while !Self.isBalanced(text), index < lines.count {
                text += " " + lines[index].trimmingSpaces
                index += 1
            }
            var flow = FlowReader(characters: Array(text))
            return flow.value()
        }
        index += 1
        return .scalar(Self.unquoted(rest[...]))
    }

    /// Splits `key: rest` (or `key:`), the key plain or double-quoted; nil when the line is no entry.
    private static func splitKey(_ content: Substring) -> (String, Substring)? {
        if content.hasPrefix("\"") {
            guard let close = content.dropFirst().firstIndex(of: "\"") else { return nil }
            let after = content[content.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            return (String(content[content.index(after: content.startIndex)..<close]), after.dropFirst())
        }
        var position = content.startIndex
        while position < content.endIndex {
            if content[position] == ":" {
                let next = content.index(after: position)
                if next == content.endIndex || content[next] == " " {
                    return (String(content[..<position]), content[next...])
                }
            }
            position = content.index(after: position)
        }
        return nil
    }

    private static func isBalanced(_ text: String) -> Bool {
        var depth = 0
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            guard !quoted else { continue }
            if character == "{" || character == "[" { depth += 1 }
            if character == "}" || character == "]" { depth -= 1 }
        }
        return depth <= 0
    }

    static func unquoted(_ text: Substring) -> String {
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { return String(text.dropFirst().dropLast()) }
        if text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'") { return String(text.dropFirst().dropLast()) }
        return String(text)
    }
}

/// Reads one flow value (`{ a: b, c: [d, e] }`).
private struct FlowReader {
    let characters: [Character]
    var position = 0

    init(characters: [Character]) {
        self.characters = characters
    }

    private var current: Character? { position < characters.count ? characters[position] : nil }

    private mutating func skipSpaces() {
        while let character = current, character == " " { position += 1 }
    }

    mutating func value() -> YAMLNode {
        skipSpaces()
        switch current {
        case "{":
            position += 1
            var entries: [(key: String, value: YAMLNode)] = []
            while true {
                skipSpaces()
                guard let character = current else { break }
                if character == "}" {
                    position += 1
                    break
                }
                if character == "," {
                    position += 1
                    continue
                }
                let key = scalar(endingAtColon: true)
                skipSpaces()
                if current == ":" {
                    position += 1
                    entries.append((key, value()))
                } else {
                    entries.append((key, .scalar("")))
                }
            }
            return .map(entries)
        case "[":
            position += 1
            var items: [YAMLNode] = []
            while true {
                skipSpaces()
                guard let character = current else { break }
                if character == "]" {
                    position += 1
                    break
                }
                if character == "," {
                    position += 1
                    continue
                }
                items.append(value())
            }
            return .list(items)
        default:
            return .scalar(scalar(endingAtColon: false))
        }
    }

    /// A quoted or plain scalar; a plain one ends at `,`, `]`, `}` (and at `: ` for a key).
    private mutating func scalar(endingAtColon: Bool) -> String {
        skipSpaces()
        if let quote = current, quote == "\"" || quote == "'" {
            position += 1
            var text = ""
            while let character = current, character != quote {
                text.append(character)
                position += 1
            }
            position += 1
            return text
        }
        var text = ""
        while let character = current, character != ",", character != "]", character != "}" {
            if endingAtColon, character == ":",
                position + 1 >= characters.count || characters[position + 1] == " " || characters[position + 1] == ","
            {
                break
            }
            text.append(character)
            position += 1
        }
        return text.trimmingSpaces
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

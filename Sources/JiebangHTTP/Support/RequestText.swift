import HTTPTypes

/// The rule every piece of request text passes before anything reads it: valid UTF-8 (else 400)
/// and no NUL (U+0000, which PostgreSQL cannot store in text; else 422 naming the field).
///
/// JSON bodies are checked by `Request.decodeJSON`, query parameters and the path by
/// `RequestTextMiddleware`, and the CSV import applies the same rule to its cells.
package enum RequestText {
    /// The 422 problem for a NUL in `field`.
    static func nulProblem(field: String) -> Problem {
        Problem(
            status: .unprocessableContent, title: "Invalid fields", detail: "\(field) must not contain NUL (U+0000).",
            errors: [.init(field: field, message: "must not contain NUL (U+0000)")])
    }

    /// The 400 problem for text in `field` that is not UTF-8.
    static func notUTF8Problem(field: String) -> Problem {
        Problem(
            status: .badRequest, title: "Invalid request text", detail: "\(field) is not valid UTF-8.",
            errors: [.init(field: field, message: "is not valid UTF-8")])
    }

    /// Whether `bytes` are well-formed UTF-8.
    package static func isUTF8(_ bytes: some Collection<UInt8>) -> Bool {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// The bytes of `text` with `%XX` escapes decoded, as Hummingbird decodes query values;
    /// nil when an escape is malformed (Hummingbird then keeps the text as it is).
    package static func percentDecoded(_ text: some Collection<UInt8>) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The path (`members[0].part`, `body` for the top level) of the first string in a JSON text that
    /// contains U+0000, as a key or as a value; nil when there is none.
    ///
    /// In valid JSON a NUL can only be written as the escape `\u0000`, so texts without that escape
    /// are not walked. The walk keeps a stack, not recursion, so any depth is safe.
    package static func pathOfNUL(inJSON bytes: some Collection<UInt8>) -> String? {
        let text = Array(bytes)
        guard containsNULEscape(text) else { return nil }
        var scanner = JSONPathScanner(text: text)
        return scanner.pathOfNUL()
    }

    /// How deep a JSON body may nest objects and arrays. The deepest the API reads is four levels.
    static let maximumJSONDepth = 16
    /// How many items any one JSON array may hold; each field's own rules may allow fewer.
    static let maximumJSONItems = 1_000

    /// The 422 problem for the first place a JSON text nests deeper than `maximumJSONDepth` or holds an
    /// array longer than `maximumJSONItems`, naming it as `pathOfNUL` does; nil when the text keeps within
    /// both. Decoding would otherwise reach Foundation's own limits (512 levels) and answer only "not valid JSON".
    package static func shapeProblem(inJSON bytes: some Collection<UInt8>) -> Problem? {
        var scanner = JSONPathScanner(text: Array(bytes))
        guard let (field, message) = scanner.shapeIssue(maximumDepth: maximumJSONDepth, maximumItems: maximumJSONItems) else {
            return nil
        }
        return Problem(
            status: .unprocessableContent, title: "Invalid fields", detail: "\(field) \(message).",
            errors: [.init(field: field, message: message)])
    }

    /// Whether `\u0000` appears at all (possibly preceded by an escaped backslash: the walk decides).
    private static func containsNULEscape(_ text: [UInt8]) -> Bool {
        let escape = Array(#"\u0000"#.utf8)
        guard text.count >= escape.count else { return false }
        for start in 0...(text.count - escape.count) where text[start] == UInt8(ascii: "\\") {
            if text[start..<(start + escape.count)].elementsEqual(escape) { return true }
        }
        return false
    }
}

/// Walks a JSON text's tokens, tracking the path of the value being read.
private struct JSONPathScanner {
    private enum Frame {
        case object(key: String?, expectingKey: Bool)
        case array(index: Int)
    }

    let text: [UInt8]
    private var position = 0
    private var stack: [Frame] = []

    init(text: [UInt8]) {
        self.text = text
    }

    mutating func pathOfNUL() -> String? {
        while position < text.count {
            let byte = text[position]
            position += 1
            switch byte {
            case UInt8(ascii: "{"): stack.append(.object(key: nil, expectingKey: true))
            case UInt8(ascii: "["): stack.append(.array(index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                switch stack.last {
                case .array(let index): stack[stack.count - 1] = .array(index: index + 1)
                case .object(let key, _): stack[stack.count - 1] = .object(key: key, expectingKey: true)
                case nil: break
                }
            case UInt8(ascii: ":"):
                if case .object(let key, _) = stack.last { stack[stack.count - 1] = .object(key: key, expectingKey: false) }
            case UInt8(ascii: "\""):
                let (string, hasNUL) = readString()
                if case .object(_, true) = stack.last {
                    stack[stack.count - 1] = .object(key: string, expectingKey: false)
                }
                if hasNUL { return path() }
            default: continue
            }
        }
        return nil
    }

    /// The path and the reason of the first container nested deeper than `maximumDepth`, or of the first array
    /// with more than `maximumItems` items; nil when there is none.
    mutating func shapeIssue(maximumDepth: Int, maximumItems: Int) -> (String, String)? {
        while position < text.count {
            let byte = text[position]
            position += 1
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard stack.count < maximumDepth else {
                    return (path(), "nests objects and arrays deeper than \(maximumDepth) levels")
                }
                stack.append(byte == UInt8(ascii: "{") ? .object(key: nil, expectingKey: true) : .array(index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                switch stack.last {
                case .array(let index):
                    guard index + 1 < maximumItems else {
                        stack.removeLast()
                        return (path(), "must have at most \(maximumItems) items")
                    }
                    stack[stack.count - 1] = .array(index: index + 1)
                case .object(let key, _): stack[stack.count - 1] = .object(key: key, expectingKey: true)
                case nil: break
                }
            case UInt8(ascii: ":"):
                if case .object(let key, _) = stack.last { stack[stack.count - 1] = .object(key: key, expectingKey: false) }
            case UInt8(ascii: "\""):
                if case .object(_, true) = stack.last {
                    stack[stack.count - 1] = .object(key: readString().0, expectingKey: false)
                } else {
                    skipString()
                }
            default: continue
            }
        }
        return nil
    }

    /// Moves past a string after its opening quote without keeping its text.
    private mutating func skipString() {
        while position < text.count {
            let byte = text[position]
            position += 1
            if byte == UInt8(ascii: "\"") { return }
            if byte == UInt8(ascii: "\\") { position += 1 }
        }
    }

    /// Reads a string after its opening quote: its text (NUL shown as `\u0000`) and whether it has a NUL.
    private mutating func readString() -> (String, Bool) {
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        var hasNUL = false
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll(keepingCapacity: true)
        }
        while position < text.count {
            let byte = text[position]
            position += 1
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\"), position < text.count else {
                raw.append(byte)
                continue
            }
            let escaped = text[position]
            position += 1
            switch escaped {
            case UInt8(ascii: "u"):
                let code = readHex4()
                if code == 0 {
                    hasNUL = true
                    raw.append(contentsOf: #"\u0000"#.utf8)
                } else if let scalar = Unicode.Scalar(code) {
                    flush()
                    scalars.append(scalar)
                } else {
                    raw.append(contentsOf: "\u{FFFD}".utf8)
                }
            case UInt8(ascii: "n"): raw.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "t"): raw.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "r"): raw.append(UInt8(ascii: "\r"))
            case UInt8(ascii: "b"): raw.append(0x08)
            case UInt8(ascii: "f"): raw.append(0x0C)
            default: raw.append(escaped)
            }
        }
        flush()
        return (String(scalars), hasNUL)
    }

    private mutating func readHex4() -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 where position < text.count {
            let byte = text[position]
            position += 1
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: digit = 0
            }
            value = value << 4 | digit
        }
        return value
    }

    /// The path of the value being read, as `Request.path` writes coding paths.
    private func path() -> String {
        var path = ""
        for frame in stack {
            switch frame {
            case .array(let index): path += "[\(index)]"
            case .object(let key?, _): path += path.isEmpty ? key : ".\(key)"
            case .object(nil, _): continue
            }
        }
        return path.isEmpty ? "body" : path
    }
}

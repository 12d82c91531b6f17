import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// The largest JSON body a route accepts.
    static let maxJSONBody = 1 << 20

    /// Reads the body (at most 1 MiB) and decodes it, naming the field of any decoding failure.
    ///
    /// This is where every JSON body's text is checked (`RequestText`): a body that is not UTF-8 is
    /// refused, and so is a NUL (U+0000) in any string or key, which PostgreSQL cannot store, a nesting
    /// deeper than 16 levels and an array of more than 1,000 items (each 422 naming the field). The text
    /// is read in Unicode Normalization Form C.
    /// - Returns: the value and the raw bytes (for idempotency fingerprints).
    /// - Throws: a 400 problem listing the field and the reason, 422 naming the field that holds a
    ///   NUL, or 413 for a body too large.
    mutating func decodeJSON<T: Decodable>(_ type: T.Type, context: AppRequestContext) async throws -> (T, ByteBuffer) {
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: Self.maxJSONBody)
        } catch is NIOTooManyBytesError {
            throw Problem(status: .contentTooLarge, detail: "The body may have at most \(Self.maxJSONBody) bytes.")
        }
        guard RequestText.isUTF8(buffer.readableBytesView) else {
            throw RequestText.notUTF8Problem(field: "body")
        }
        if let problem = RequestText.shapeProblem(inJSON: buffer.readableBytesView) { throw problem }
        let value: T
        do {
            value = try context.requestDecoder.decode(T.self, from: Self.normalized(buffer))
        } catch let error as DecodingError {
            throw Self.problem(for: error)
        }
        if let field = RequestText.pathOfNUL(inJSON: buffer.readableBytesView) {
            throw RequestText.nulProblem(field: field)
        }
        return (value, buffer)
    }

    /// The body's text in Unicode Normalization Form C, so that one name typed two ways (a precomposed
    /// letter, or a letter and a combining mark; a CJK compatibility ideograph or its unified twin) is
    /// stored, compared and made unique as one. ASCII, the usual case, is NFC already and is not copied.
    static func normalized(_ buffer: ByteBuffer) -> Data {
        let bytes = buffer.readableBytesView
        guard bytes.contains(where: { $0 >= 0x80 }) else { return Data(bytes) }
        return Data(String(decoding: bytes, as: UTF8.self).precomposedStringWithCanonicalMapping.utf8)
    }

    /// A 400 problem naming the field a decoding error is about.
    static func problem(for error: DecodingError) -> Problem {
        let issue: (field: String, message: String)
        switch error {
        case .keyNotFound(let key, let context):
            issue = (path(context.codingPath + [key]), "is required")
        case .valueNotFound(let type, let context):
            issue = (path(context.codingPath), "must not be null; expected \(jsonName(type))")
        case .typeMismatch(let type, let context):
            issue = (path(context.codingPath), "must be \(jsonName(type))")
        case .dataCorrupted(let context):
            // Foundation's descriptions end with a full stop; the detail adds its own.
            let reason = context.debugDescription.hasSuffix(".") ? String(context.debugDescription.dropLast()) : context.debugDescription
            issue = context.codingPath.isEmpty ? ("body", "is not valid JSON: \(reason)") : (path(context.codingPath), reason)
        @unknown default:
            issue = ("body", "cannot be read")
        }
        return Problem(
            status: .badRequest, title: "Invalid request body", detail: "\(issue.field) \(issue.message).",
            errors: [.init(field: issue.field, message: issue.message)])
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var path = ""
        for key in keys {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return path.isEmpty ? "body" : path
    }

    static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Date.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type: "a whole number"
        case is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

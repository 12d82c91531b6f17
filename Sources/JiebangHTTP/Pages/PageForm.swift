import Foundation
import Hummingbird
import NIOCore

/// A form a page posted (`application/x-www-form-urlencoded`), its fields by name.
struct PageForm: Sendable {
    /// Each field's value; a name given twice keeps its first value.
    var fields: [String: String]

    /// The largest form accepted: 256 KiB (a score sheet's comments fit many times over).
    static let maximumSize = 256 * 1024

    subscript(_ name: String) -> String? { fields[name] }

    /// Reads the request's form.
    /// - Throws: a 413 problem past `maximumSize`, a 415 problem for another content type; a body that
    ///   cannot be read (a malformed chunk) throws its own error, which `ProblemMiddleware` answers.
    static func read(_ request: Request) async throws -> PageForm {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            throw Problem(status: .unsupportedMediaType, detail: "表单须以 application/x-www-form-urlencoded 提交。")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumSize)
        } catch is NIOTooManyBytesError {
            throw Problem(status: .contentTooLarge, detail: "表单内容过长。")
        }
        let form = PageForm(fields: parse(String(decoding: body.readableBytesView, as: UTF8.self)))
        if let field = form.fields.first(where: { $0.key.contains("\0") || $0.value.contains("\0") })?.key {
            throw Problem(
                status: .unprocessableContent, detail: "表单字段「\(field.replacingOccurrences(of: "\0", with: ""))」含有不允许的字符（U+0000）。")
        }
        return form
    }

    /// `a=1&b=x+y%21` as fields; `+` is a space, percent escapes are decoded, undecodable text is dropped.
    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]), !name.isEmpty else { continue }
            let value = parts.count > 1 ? decode(parts[1]) : ""
            if fields[name] == nil, let value { fields[name] = value }
        }
        return fields
    }

    /// Refuses the form unless it carries `expected` as its CSRF token.
    /// - Throws: a 403 problem (the page says the form expired and to reload).
    func requireCSRF(_ expected: String?) throws {
        guard let expected, PageSession.matches(self[PageSession.csrfField], expected) else {
            throw Problem(status: .forbidden, detail: "表单已失效或来源不明，请刷新页面后重新提交。")
        }
    }
}

import Foundation
import Hummingbird
import Jiebang
import NIOCore

/// A file upload form a page posted (`multipart/form-data`, RFC 7578): its text fields and its files.
///
/// A browser sends a file's bytes as they are, framed by a boundary line; this reads the whole body (up to
/// `maximumSize`) and cuts it at the boundaries. Anything that is not well-formed multipart is a 400 page,
/// never a partial upload.
struct PageUpload: Sendable {
    /// One file of the form.
    struct File: Sendable {
        var filename: String
        var contentType: String?
        var bytes: [UInt8]
    }

    /// The text fields by name (a name given twice keeps its first value).
    var fields: [String: String]
    /// The files by field name.
    var files: [String: File]

    /// The largest form accepted: the largest PDF and 64 KiB for the other fields and the framing.
    static let maximumSize = BidAttachments.maximumSize + 64 * 1024

    subscript(_ name: String) -> String? { fields[name] }

    /// Reads the request's form.
    /// - Throws: a 415 problem for another content type, 413 past `maximumSize`, 400 for a malformed body.
    static func read(_ request: Request) async throws -> PageUpload {
        let type = request.headers[.contentType] ?? ""
        guard type.lowercased().hasPrefix("multipart/form-data"), let boundary = boundary(of: type) else {
            throw Problem(status: .unsupportedMediaType, detail: "文件须以 multipart/form-data 表单上传。")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumSize)
        } catch is NIOTooManyBytesError {
            throw Problem(status: .contentTooLarge, detail: "上传的文件过大：每个文件不超过 \(BidAttachments.maximumSize / 1_048_576) MiB。")
        }
        guard let upload = parse(Array(body.readableBytesView), boundary: boundary) else {
            throw Problem(status: .badRequest, detail: "上传的表单格式不正确，请重新选择文件后提交。")
        }
        if let field = upload.fields.first(where: { $0.key.contains("\0") || $0.value.contains("\0") })?.key {
            throw Problem(
                status: .unprocessableContent, detail: "表单字段「\(field.replacingOccurrences(of: "\0", with: ""))」含有不允许的字符（U+0000）。")
        }
        return upload
    }

    /// The `boundary` parameter of a multipart content type, unquoted: 1 to 70 characters (RFC 2046).
    static func boundary(of contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            guard (1...70).contains(value.utf8.count), !value.contains(where: { $0.isNewline }) else { return nil }
            return value
        }
        return nil
    }

    /// The parts of `body` framed by `boundary`, or nil when it is not well-formed.
    static func parse(_ body: [UInt8], boundary: String) -> PageUpload? {
        let delimiter = Array("--\(boundary)".utf8)
        let separator = Array("\r\n--\(boundary)".utf8)
        guard var position = find(delimiter, in: body, from: 0) else { return nil }
        position += delimiter.count
        var upload = PageUpload(fields: [:], files: [:])
        var parts = 0
        while true {
            // After a delimiter: `--` ends the body, CRLF starts a part.
            if body.count >= position + 2, body[position] == UInt8(ascii: "-"), body[position + 1] == UInt8(ascii: "-") {
                return upload
            }
            while position < body.count, body[position] == UInt8(ascii: " ") || body[position] == UInt8(ascii: "\t") { position += 1 }
            guard body.count >= position + 2, body[position] == 13, body[position + 1] == 10 else { return nil }
            position += 2
            guard let end = find(separator, in: body, from: position) else { return nil }
            parts += 1
            guard parts <= 32, let part = Part(body[position..<end]) else { return nil }
            if let filename = part.filename {
                if upload.files[part.name] == nil {
                    upload.files[part.name] = File(filename: filename, contentType: part.contentType, bytes: Array(part.content))
                }
            } else if upload.fields[part.name] == nil {
                guard let text = String(validating: part.content, as: UTF8.self) else { return nil }
                upload.fields[part.name] = text
            }
            position = end + separator.count
        }
    }

    /// One part: its headers' name, file name and type, and its content.
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var content: ArraySlice<UInt8>

        init?(_ bytes: ArraySlice<UInt8>) {
            guard let split = PageUpload.find(Array("\r\n\r\n".utf8), in: bytes, from: bytes.startIndex) else { return nil }
            guard let head = String(validating: bytes[bytes.startIndex..<split], as: UTF8.self), head.utf8.count <= 8192 else {
                return nil
            }
            content = bytes[(split + 4)...]
            var name: String?
            for line in head.components(separatedBy: "\r\n") {
                let pair = line.split(separator: ":", maxSplits: 1)
                guard pair.count == 2 else { return nil }
                let value = pair[1].trimmingCharacters(in: .whitespaces)
                switch pair[0].trimmingCharacters(in: .whitespaces).lowercased() {
                case "content-disposition":
                    guard value.lowercased().hasPrefix("form-data") else { return nil }
                    let parameters = PageUpload.parameters(value)
                    name = parameters["name"]
                    filename = parameters["filename"]
                case "content-type": contentType = value
                default: continue
                }
            }
            guard let name, !name.isEmpty else { return nil }
            self.name = name
        }
    }

    /// The parameters of a header value, `form-data; name="file"; filename="申报书.pdf"`, quoted strings unquoted
    /// (a browser escapes `"` in a file name as `%22`, which is decoded).
    static func parameters(_ value: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(value)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop { $0 == " " || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var text: String
            if rest.first == "\"" {
                rest = rest.dropFirst()
                guard let close = rest.firstIndex(of: "\"") else { break }
                text = String(rest[..<close])
                rest = rest[rest.index(after: close)...]
                text = text.replacingOccurrences(of: "%22", with: "\"")
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                text = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            if result[key] == nil { result[key] = text }
        }
        return result
    }

    /// The index of the first occurrence of `needle` in `haystack` at or after `start`.
    static func find<C: RandomAccessCollection<UInt8>>(_ needle: [UInt8], in haystack: C, from start: C.Index) -> C.Index?
    where C.Index == Int {
        guard let first = needle.first, haystack.endIndex - start >= needle.count else { return nil }
        let last = haystack.endIndex - needle.count
        var index = start
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Jiebang
import NIOCore

/// Uploading and downloading PDFs (bid attachments, acceptance evidence).
enum PDFResponse {
    /// The characters kept as they are in a `filename*` parameter.
    static let filenameCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// The request's body, at most `PDFUpload.maximumSize` bytes (else 413 naming the body).
    static func body(of request: inout Request) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: PDFUpload.maximumSize)
        } catch is NIOTooManyBytesError {
            throw Problem(
                status: .contentTooLarge, detail: "A file may have at most \(PDFUpload.maximumSize) bytes.",
                errors: [.init(field: "body", message: "is larger than 20 MiB")])
        }
    }

    /// A PDF download with its file name, ETag and SHA-256 digest.
    static func download(filename: String, sha256: String, bytes: Data) -> Response {
        let encoded = filename.addingPercentEncoding(withAllowedCharacters: filenameCharacters) ?? "file.pdf"
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/pdf", .contentDisposition: "attachment; filename*=UTF-8''\(encoded)",
                .eTag: "\"\(sha256)\"", HTTPField.Name("Digest")!: "sha-256=\(sha256)",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

import Foundation

/// The rules every uploaded PDF passes (bid attachments, acceptance evidence): a file name of 1 to 200
/// characters without slashes, a PDF content type, 1 byte to 20 MiB starting with `%PDF-`. The
/// database holds the same (`*_pdf`, `*_size`, `*_filename` constraints).
public enum PDFUpload {
    /// The largest file accepted: 20 MiB.
    public static let maximumSize = 20 * 1024 * 1024

    /// The trimmed file name, once the upload passes every rule.
    /// - Throws: `DomainError.invalid` naming `filename`, `Content-Type` or `body`.
    public static func check(filename: String, contentType: String?, bytes: [UInt8]) throws(DomainError) -> String {
        var checker = FieldChecker()
        let name = filename.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 200 || name.contains("/") || name.contains("\\") {
            checker.add("filename", "must have 1 to 200 characters and no slashes")
        }
        if let contentType, !["application/pdf", "application/octet-stream"].contains(where: contentType.lowercased().hasPrefix) {
            checker.add("Content-Type", "must be application/pdf (or application/octet-stream)")
        }
        if bytes.isEmpty || bytes.count > maximumSize {
            checker.add("body", "must have 1 byte to \(maximumSize) bytes, not \(bytes.count)")
        } else if !bytes.starts(with: Array("%PDF-".utf8)) {
            checker.add("body", "is not a PDF file (it does not start with %PDF-)")
        }
        try checker.check()
        return name
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging

/// Writes each log event as one line, in swift-log's `StreamLogHandler` format
/// (`<time> <level> <label>: <key=value ...> [<source>] <message>`), to standard error by default.
///
/// `StreamLogHandler` formats the whole metadata into a sorted string whenever a key is set, so every
/// request paid for its id and its user's id in a line that a server at warning level never prints
/// (5% of the server's CPU in the deadline rush). This handler keeps the metadata as it is and formats
/// it only when it writes a line.
public struct LineLogHandler: LogHandler {
    /// The logger's label, printed after the level.
    public let label: String
    /// The most detailed level written.
    public var logLevel: Logger.Level = .info
    /// The logger's own metadata.
    public var metadata: Logger.Metadata = [:]
    /// Metadata added to every line (task-local context, for example).
    public var metadataProvider: Logger.MetadataProvider?
    private let write: @Sendable (String) -> Void

    /// Creates a handler writing to standard error.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.init(label: label, metadataProvider: metadataProvider, write: Self.standardError)
    }

    /// Creates a handler that hands each line, with its newline, to `write`.
    public init(label: String, metadataProvider: Logger.MetadataProvider?, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let pairs = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        write("\(Self.timestamp()) \(event.level)\(label.isEmpty ? "" : " ")\(label):\(pairs) [\(event.source)] \(event.message)\n")
    }

    /// The local time as `2026-11-26T15:34:49+0800`.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// One `write(2)` per line, so lines from different threads never interleave.
    @Sendable static func standardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

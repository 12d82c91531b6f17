import Foundation

/// How a client's event loop waits for its connections' sockets.
public enum PostgresPoller: String, Sendable, CaseIterable {
    /// Linux's epoll: a socket is armed once, and one wait returns every ready socket. Linux only.
    case epoll
    /// POSIX `poll(2)`: each wait passes every armed socket. Portable (macOS, the BSDs), and the
    /// choice on every platform but Linux.
    case poll

    /// The environment variable that chooses the poller (`epoll` or `poll`).
    public static let environmentVariable = "JIEBANG_POSTGRES_POLLER"

    /// epoll on Linux, poll elsewhere.
    public static var platformDefault: PostgresPoller {
        #if os(Linux)
            .epoll
        #else
            .poll
        #endif
    }

    /// The poller `JIEBANG_POSTGRES_POLLER` names, or the platform's default when it is unset or
    /// names none this platform has (the CLI refuses such a value before it gets here, see `parse`).
    public static var standard: PostgresPoller {
        (try? parse(ProcessInfo.processInfo.environment[environmentVariable])) ?? nil ?? platformDefault
    }

    /// Reads a poller's name; nil for nil or empty text.
    /// - Throws: `Invalid` when the text names no poller, or one this platform lacks.
    public static func parse(_ text: String?) throws(Invalid) -> PostgresPoller? {
        guard let text, !text.isEmpty else { return nil }
        guard let poller = PostgresPoller(rawValue: text) else {
            throw Invalid(description: "\(text) is not a poller (epoll or poll)")
        }
        #if !os(Linux)
            if poller == .epoll { throw Invalid(description: "epoll exists on Linux only; use poll") }
        #endif
        return poller
    }

    /// A poller name that cannot be used.
    public struct Invalid: Error, CustomStringConvertible {
        /// What is wrong, in one line.
        public let description: String
    }
}

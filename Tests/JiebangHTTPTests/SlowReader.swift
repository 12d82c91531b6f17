import Foundation
import Glibc

/// An HTTP/1.1 client on a plain socket that reads only when told to: it lets a test leave a download
/// half-read (the server's writes then wait), change the world, and read on to the end.
final class SlowReader {
    private let socket: Int32
    /// Everything read so far, head included.
    private(set) var received: [UInt8] = []

    /// Connects to 127.0.0.1:`port` with a small receive buffer and sends a GET for `path`.
    /// - Parameter timeout: how long one read may wait before it fails.
    init(port: Int, path: String, token: String, timeout: Int = 60) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var size: Int32 = 16_384
        setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw POSIXError(.init(rawValue: errno) ?? .ECONNREFUSED)
        }
        let request = Array(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n".utf8)
        guard send(socket, request, request.count, 0) == request.count else {
            close(socket)
            throw POSIXError(.EIO)
        }
    }

    deinit { close(socket) }

    /// Reads until at least `count` bytes have arrived in all, or the connection ends.
    func read(atLeast count: Int) throws {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while received.count < count {
            let read = recv(socket, &buffer, buffer.count, 0)
            if read == 0 { return }
            guard read > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            received += buffer[0..<read]
        }
    }

    /// Reads to the end of the connection.
    /// - Throws: `POSIXError` (EAGAIN) when a read waits longer than the timeout: the server hangs.
    func readToEnd() throws {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let read = recv(socket, &buffer, buffer.count, 0)
            if read == 0 { return }
            if read < 0 {
                if errno == ECONNRESET { return }
                throw POSIXError(.init(rawValue: errno) ?? .EIO)
            }
            received += buffer[0..<read]
        }
    }

    /// The response body, its chunks joined, and whether the last (empty) chunk arrived.
    var body: (bytes: [UInt8], complete: Bool) {
        guard let end = received.firstRange(of: Array("\r\n\r\n".utf8)) else { return ([], false) }
        var rest = received[end.upperBound...]
        var bytes: [UInt8] = []
        while let line = rest.firstRange(of: Array("\r\n".utf8)) {
            guard let size = Int(String(decoding: rest[rest.startIndex..<line.lowerBound], as: UTF8.self), radix: 16) else {
                return (bytes, false)
            }
            if size == 0 { return (bytes, true) }
            let start = line.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size + 2 else {
                bytes += rest[start...]
                return (bytes, false)
            }
            bytes += rest[start..<rest.index(start, offsetBy: size)]
            rest = rest[rest.index(start, offsetBy: size + 2)...]
        }
        return (bytes, false)
    }
}

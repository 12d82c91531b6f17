import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JiebangTesting
import Postgres
import Testing

/// A `jiebang serve` child process on the database of a test, and plain HTTP requests to it.
struct RunningServer: Sendable {
    let process: ChildProcess
    let port: Int
    /// The name its database sessions carry (`application_name`).
    let sessionName: String

    /// Starts `jiebang serve` on the database `db` serves, with `environment` added, and waits until it is ready.
    static func start(
        on db: PostgresClient, arguments: [String] = [], environment extra: [String: String] = [:]
    ) async throws -> RunningServer {
        let server = try await TestDatabase.serverConnectionString()
        let name = try await db.query("SELECT current_database()").first!.decode(String.self)
        let sessionName = "jiebang-test-\(UInt32.random(in: 0...UInt32.max))"
        let environment = [
            "DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning",
            "PGAPPNAME": sessionName,
        ].merging(extra) { $1 }
        let port = try FreePort.next()
        let process = try ChildProcess(
            ChildProcess.builtProduct("jiebang"), ["serve", "--no-with-workers", "--port", "\(port)"] + arguments,
            environment: environment)
        try await BidKillTests.waitUntilReady(port: port, process: process)
        return RunningServer(process: process, port: port, sessionName: sessionName)
    }

    /// Sends a request and returns the status, the headers and the body.
    func send(
        _ method: String, _ path: String, token: String? = nil, headers: [String: String] = [:], body: Data? = nil,
        timeout: TimeInterval = 60
    ) async throws -> (status: Int, headers: [String: String], body: Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            fields[String(describing: name).lowercased()] = String(describing: value)
        }
        return (http?.statusCode ?? 0, fields, data)
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    /// - Returns: its exit status, or nil if it did not exit within `timeout`.
    @discardableResult
    func stop(timeout: Duration = .seconds(30)) async -> Int32? {
        process.send(SIGTERM)
        return await process.waitForExit(timeout: timeout)
    }
}

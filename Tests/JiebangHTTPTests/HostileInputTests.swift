import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Jiebang
import JiebangHTTP
import JiebangTesting
import Postgres
import Testing

@Suite("Hostile input, generated from the OpenAPI document")
struct HostileInputTests {
    /// One request to send and the operation it belongs to.
    struct Probe: Sendable {
        var operation: String
        var what: String
        var method: String
        var path: String
        var query: String
        var headers: [String: String]
        var body: Data?
        var statuses: Set<String>
        /// Whether the body carries a password, which costs the server a scrypt hash when it is read
        /// (such probes are sent once, not once per identity, to keep the run short).
        var hashesPassword = false
    }

    /// An answer the API must never give.
    struct Finding: Sendable, CustomStringConvertible {
        var probe: Probe
        var identity: String
        var outcome: String
        var description: String { "\(probe.operation) as \(identity), \(probe.what): \(outcome)" }
    }

    actor Findings {
        private(set) var all: [Finding] = []
        private(set) var answered = 0
        /// How many answers had each status.
        private(set) var statuses: [Int: Int] = [:]
        func add(_ finding: Finding) { all.append(finding) }
        func count(_ status: Int) {
            answered += 1
            statuses[status, default: 0] += 1
        }
    }

    @Test(
        "Every operation, parameter and body field of the document, given NUL, bad UTF-8, huge, extreme and malformed values by anyone, answers a documented 2xx or a documented 4xx as problem+json, and the server survives",
        .timeLimit(.minutes(10)))
    func hostileInput() async throws {
        let document = OpenAPIYAML.parse(OpenAPIDocument.yaml)
        let operations = DocumentedOperation.all(in: document).filter { $0.path.hasPrefix("/v1/") }
        #expect(operations.count == OpenAPIDocument.operations.filter { $0.contains(" /v1/") }.count)
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let password = "hostile-demo-2025"
            try await db.withTransaction { tx in
                _ = try await DemoData.load(on: tx)
                _ = try await DemoData.loadAccounts(password: password, hasher: .fastForTests, on: tx)
            }
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let port = try FreePort.next()
            let process = try ChildProcess(
                ChildProcess.builtProduct("jiebang"), ["serve", "--no-with-workers", "--port", "\(port)"],
                environment: ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "error"])
            try await BidKillTests.waitUntilReady(port: port, process: process)
            let base = "http://127.0.0.1:\(port)"
            let identities: [(String, String?)] = [
                ("demo.publisher", try await Self.signIn(base: base, login: "demo.publisher", password: password)),
                ("demo.unit", try await Self.signIn(base: base, login: "demo.unit", password: password)),
                ("anonymous", nil),
            ]
            // Signing out revokes the token the other probes use: it goes last.
            let probes = (operations.filter { $0.path != "/v1/sessions/current" } + operations.filter { $0.path == "/v1/sessions/current" })
                .flatMap { Self.probes(for: $0, document: document) }
            let findings = Findings()
            let started = ContinuousClock.now
            for (identity, token) in identities {
                let chosen = token == nil ? probes : probes.filter { !$0.hashesPassword }
                await Self.send(chosen, base: base, identity: identity, token: token, findings: findings)
                if await process.waitForExit(timeout: .zero) != nil { break }
            }
            let all = await findings.all
            let answered = await findings.answered
            let summary = all.prefix(40).map(\.description).joined(separator: "\n")
            #expect(all.isEmpty, "\(all.count) bad answers of \(answered) (first 40):\n\(summary)")
            // The probes reached the handlers and the database, not only the doors: some created, some
            // were refused field by field.
            let statuses = await findings.statuses
            #expect(statuses[201, default: 0] > 0 && statuses[422, default: 0] > 100 && statuses[400, default: 0] > 100, "\(statuses)")
            let exit = await process.waitForExit(timeout: .zero)
            let output = process.output
            let crash = output.range(of: "Fatal error").map { output[$0.lowerBound...] } ?? output.suffix(3000)
            #expect(exit == nil, "the server died: \(crash.prefix(3000))")
            let (_, ready) = try await URLSession.shared.data(from: URL(string: "\(base)/readyz")!)
            #expect((ready as? HTTPURLResponse)?.statusCode == 200)
            print("hostile input: \(await findings.answered) answers to \(probes.count) probes in \(ContinuousClock.now - started): \(statuses.sorted { $0.key < $1.key })")
            process.send(SIGTERM)
            _ = await process.waitForExit()
        }
    }

    static func signIn(base: String, login: String, password: String) async throws -> String {
        var request = URLRequest(url: URL(string: "\(base)/v1/sessions")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["login": login, "password": password])
        let (data, _) = try await URLSession.shared.data(for: request)
        let session = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return try #require(session?["token"] as? String)
    }

    /// Sends `probes` eight at a time, recording every answer that is a 5xx, an undocumented 2xx
    /// or 4xx, a 4xx that is not problem+json, or no answer at all.
    static func send(_ probes: [Probe], base: String, identity: String, token: String?, findings: Findings) async {
        let session = URLSession(configuration: .ephemeral)
        await withTaskGroup(of: Void.self) { group in
            var pending = probes.makeIterator()
            func next() -> Bool {
                guard let probe = pending.next() else { return false }
                group.addTask {
                    let (status, outcome) = await Self.answer(probe, base: base, token: token, session: session)
                    await findings.count(status)
                    if let outcome { await findings.add(Finding(probe: probe, identity: identity, outcome: outcome)) }
                }
                return true
            }
            for _ in 0..<8 where next() {}
            while await group.next() != nil { _ = next() }
        }
    }

    /// The status of the answer to `probe` (0 for none, -1 when Foundation cannot build its URL, as for a
    /// broken escape) and what is wrong with it, nil when it is acceptable.
    static func answer(_ probe: Probe, base: String, token: String?, session: URLSession) async -> (Int, String?) {
        guard let url = URL(string: base + probe.path + (probe.query.isEmpty ? "" : "?" + probe.query)) else {
            return (-1, nil)
        }
        var request = URLRequest(url: url)
        request.httpMethod = probe.method
        request.timeoutInterval = 30
        for (name, value) in probe.headers { request.setValue(value, forHTTPHeaderField: name) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = probe.body
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            return (0, "no answer (\(error.localizedDescription))")
        }
        guard let http = response as? HTTPURLResponse else { return (0, "no HTTP answer") }
        let status = http.statusCode
        let type = http.value(forHTTPHeaderField: "Content-Type") ?? ""
        let text = String(decoding: data.prefix(300), as: UTF8.self)
        switch status {
        case 200..<300:
            return (status, probe.statuses.contains("\(status)") ? nil : "undocumented \(status): \(text)")
        case 400..<500:
            guard type.hasPrefix("application/problem+json") else { return (status, "\(status) as \(type): \(text)") }
            return (status, probe.statuses.contains("\(status)") ? nil : "undocumented \(status): \(text)")
        default:
            return (status, "\(status): \(text)")
        }
    }
}

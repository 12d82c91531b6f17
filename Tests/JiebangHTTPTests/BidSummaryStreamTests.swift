import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("The bid summary streams: pages from the database, written as the client takes them")
struct BidSummaryStreamTests {
    /// The bids the memory test exports; `JIEBANG_SUMMARY_BIDS` sets another count (the benchmark's 100,000).
    static var exportedBids: Int {
        ProcessInfo.processInfo.environment["JIEBANG_SUMMARY_BIDS"].flatMap(Int.init) ?? 20_000
    }

    @Test("Pages follow the table's order, region then bid, with no row twice or missing, whatever the page size")
    func pagesInOrder() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let table = try await SummaryTable.make(db, bids: 50)
            // Two regions, interleaved by id, so the key's region part matters.
            try await db.execute(
                "UPDATE bids SET region_code = '620300' WHERE programme_id = \(table.world.programme) AND id % 3 = 0")
            let expected = try await db.query(
                "SELECT id FROM bids WHERE programme_id = \(table.world.programme) ORDER BY region_code, id"
            ).decode(Int.self)
            #expect(expected.count == 50)
            for size in [1, 7, 50, 1_000] {
                var ids: [Int] = []
                for try await page in BidSummary.Pages(programmeID: table.world.programme, region: nil, pageSize: size, database: db) {
                    #expect(page.count <= size)
                    ids += page.map { Int($0[0])! }
                }
                #expect(ids == expected, "page size \(size)")
            }
            var jinchang: [Int] = []
            for try await page in BidSummary.Pages(programmeID: table.world.programme, region: "620300", pageSize: 4, database: db) {
                jinchang += page.map { Int($0[0])! }
            }
            #expect(jinchang == expected.filter { $0 % 3 == 0 })
        }
    }

    @Test("An XLSX written in pieces is a valid ZIP whose sheet holds every row, as Python's zipfile reads it")
    func xlsxInPieces() throws {
        let rows = (0..<25).map { index in ["\(index)", "标题<\(index)>", "单位&\(index)"] }
        var stream = BidSummary.xlsxStream()
        var pieces = stream.head()
        for start in stride(from: 0, to: rows.count, by: 10) { pieces += stream.rows(Array(rows[start..<min(start + 10, rows.count)])) }
        pieces += stream.tail()
        let file = FileManager.default.temporaryDirectory.appending(path: "summary-\(UUID().uuidString).xlsx")
        try Data(pieces).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            print(len(z.namelist()))
            print(z.read('xl/worksheets/sheet1.xml').decode())
            """
        let (status, output) = try CommandLineTests.run(["-c", script, file.path], environment: [:], executable: "/usr/bin/python3")
        #expect(status == 0, "\(output)")
        #expect(output.hasPrefix("5\n"))
        #expect(output.contains(#"<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve">申请编号</t>"#))
        #expect(output.contains(#"<c r="B26" t="inlineStr"><is><t xml:space="preserve">标题&lt;24&gt;</t></is></c>"#))
        #expect(output.contains("单位&amp;0"))
    }

    @Test("Exporting 20,000 bids through jiebang serve grows its peak memory far less than the table's size, and every row arrives")
    func streamsWithinMemory() async throws {
        let count = Self.exportedBids
        try await TestDatabase.withFreshDatabase { db in
            let clock = ContinuousClock()
            let made = clock.now
            let table = try await SummaryTable.make(db, bids: count)
            let filled = clock.now - made
            let server = try await RunningServer.start(on: db)
            defer { server.process.send(SIGKILL) }
            // A first small download warms the server (its pools, caches and first allocations).
            let warm = try await server.send("GET", "/v1/programmes/\(table.world.programme)/bids/summary?region=620300", token: table.token)
            #expect(warm.status == 200)
            let before = try ProcessMemory.peak(of: server.process.pid)
            let started = clock.now
            let answer = try await server.send("GET", table.path(), token: table.token, timeout: 600)
            let took = clock.now - started
            let growth = try ProcessMemory.peak(of: server.process.pid) - before
            #expect(answer.status == 200)
            let lines = answer.body.split(separator: UInt8(ascii: "\n"))
            #expect(lines.count == count + 1, "header and \(count) rows")
            let xlsxStarted = clock.now
            let xlsx = try await server.send("GET", table.path(format: "xlsx"), token: table.token, timeout: 600)
            let xlsxTook = clock.now - xlsxStarted
            let xlsxGrowth = try ProcessMemory.peak(of: server.process.pid) - before
            #expect(xlsx.status == 200)
            #expect(xlsx.body.starts(with: [0x50, 0x4B, 0x03, 0x04]))
            let figures = """
                summary export of \(count) bids (made in \(filled)): CSV \(answer.body.count) bytes in \(took), \
                server peak RSS growth \(growth / 1024) KiB; XLSX \(xlsx.body.count) bytes in \(xlsxTook), \
                growth since before the CSV \(xlsxGrowth / 1024) KiB
                """
            print(figures)
            // Collecting the table held it several times over (rows as strings, the CSV text, its bytes):
            // growth must stay well under the CSV's own size, and under 50 MB at any size.
            #expect(growth < min(50 << 20, max(answer.body.count / 2, 8 << 20)), "\(figures)")
            #expect(xlsxGrowth < 50 << 20, "\(figures)")
        }
    }

    /// What goes wrong while the summary streams.
    enum Failure: String, Sendable, CaseIterable, CustomStringConvertible {
        /// A table the pages read is renamed: the next page's statement fails.
        case tableGone
        /// The server's sessions are ended and the database takes no new ones: the next page finds no connection.
        case databaseGone
        var description: String { rawValue }

        func happen(to db: PostgresClient, server: RunningServer) async throws {
            switch self {
            case .tableGone:
                try await db.execute("ALTER TABLE bid_members RENAME TO bid_members_gone")
            case .databaseGone:
                let name = try await db.query("SELECT current_database()").first!.decode(String.self)
                // Only another database's session may close this one to new connections.
                let admin = PostgresClient(
                    configuration: PostgresConfiguration(
                        connectionString: try await TestDatabase.serverConnectionString(), minimumConnections: 0,
                        maximumConnections: 1))
                do {
                    try await admin.execute(PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS false"))
                    try await admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = \(server.sessionName)")
                } catch {
                    await admin.close()
                    throw error
                }
                await admin.close()
            }
        }
    }

    @Test("A failure mid-stream (a table or the database gone between two pages) cuts the download short: the connection ends, it never hangs", arguments: Failure.allCases)
    func failureEndsTheResponse(_ failure: Failure) async throws {
        try await TestDatabase.withFreshDatabase { db in
            // 5,000 rows: about 860 KB of CSV, far more than the socket buffers and the channel's high water mark.
            let table = try await SummaryTable.make(db, bids: 5_000)
            let server = try await RunningServer.start(on: db)
            defer { server.process.send(SIGKILL) }
            let reader = try SlowReader(port: server.port, path: table.path(), token: table.token, timeout: 60)
            // The head and a little of the body: the server then waits for this reader, pages still to come.
            try reader.read(atLeast: 4_096)
            #expect(String(decoding: reader.received.prefix(12), as: UTF8.self) == "HTTP/1.1 200")
            try await failure.happen(to: db, server: server)
            try reader.readToEnd()
            let (body, complete) = reader.body
            #expect(!complete, "the response ended as if whole")
            let rows = body.split(separator: UInt8(ascii: "\n")).count - 1
            #expect(rows < 5_000)
            #expect(await server.process.waitForExit(timeout: .zero) == nil, "the server died")
        }
    }
}

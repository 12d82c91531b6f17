import Foundation
import JiebangTesting
import Postgres
import Testing

@testable import Jiebang

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
                    ids += page.map(\.bidID)
                }
                #expect(ids == expected, "page size \(size)")
            }
            var jinchang: [Int] = []
            for try await page in BidSummary.Pages(programmeID: table.world.programme, region: "620300", pageSize: 4, database: db) {
                jinchang += page.map(\.bidID)
            }
            #expect(jinchang == expected.filter { $0 % 3 == 0 })
        }
    }

    @Test(
        "The workbook has a sheet per challenge with a bold frozen header, widths that fit the Chinese, money as numbers in 万元, as Python reads its XML"
    )
    func workbookLayout() throws {
        let file = FileManager.default.temporaryDirectory.appending(path: "summary-\(UUID().uuidString).xlsx")
        defer { try? FileManager.default.removeItem(at: file) }
        let long = String(repeating: "稀土永磁材料晶界扩散", count: 5)
        let workbook = try SummaryWorkbook(path: file.path, challenges: [(7, "高性能稀土永磁材料关键制备技术"), (9, long + "[第二]")])
        let titles = [7: "高性能稀土永磁材料关键制备技术", 9: long, 11: "晚到的榜单"]
        func row(_ id: Int, _ challenge: Int, lead: String) -> BidSummary.Row {
            BidSummary.Row(
                bidID: id, challengeID: challenge, challengeTitle: titles[challenge] ?? "", leadUnitName: lead,
                creditCode: "91620100MA0000001X", regionCode: "620100", partners: "金昌参与单位&<1>", totalInvestmentFen: 1_234_567_800,
                selfFundingFen: 1_000_000_000, requestedFundingFen: 123_456_700, status: "submitted", version: 2,
                submittedAt: Date(timeIntervalSince1970: 1_796_000_000))
        }
        try workbook.add([row(1, 7, lead: "兰州牵头企业"), row(2, 9, lead: "白银有色集团股份有限公司稀土分公司"), row(3, 7, lead: "天水")])
        try workbook.add([row(4, 11, lead: "晚到的榜单")])
        try workbook.close()
        let script = """
            import sys, zipfile, re
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            book = z.read('xl/workbook.xml').decode()
            print('SHEETS', re.findall(r'<sheet name="([^"]*)"', book))
            styles = z.read('xl/styles.xml').decode()
            print('BOLD', '<b/>' in styles, 'NUMFMT', '#,##0.00' in styles)
            for n in (1, 2, 3):
                sheet = z.read(f'xl/worksheets/sheet{n}.xml').decode()
                print('PANE', n, re.search(r'<pane [^>]*/>', sheet).group(0))
                print('ROWS', n, len(re.findall(r'<row ', sheet)))
                print('COLS', n, re.findall(r'<col min="(\\d+)" max="\\d+" width="([0-9.]+)"', sheet)[:3])
                print('MONEY', n, re.findall(r'<c r="G2"[^>]*><v>([^<]*)</v>', sheet))
                print('TEXT', n, re.findall(r'<c r="F2"[^>]*t="inlineStr"><is><t>([^<]*)</t>', sheet))
            """
        let (status, output) = try CommandLineTests.run(["-c", script, file.path], environment: [:], executable: "/usr/bin/python3")
        #expect(status == 0, "\(output)")
        let second = String("2 \(long) 第二 ".prefix(31)).trimmingCharacters(in: .whitespaces)
        #expect(output.contains("SHEETS ['1 高性能稀土永磁材料关键制备技术', '\(second)', '3 晚到的榜单']"), "\(output)")
        #expect(output.contains("3 晚到的榜单"), "a late challenge gets a sheet after the others")
        #expect(output.contains("BOLD True NUMFMT True"), "\(output)")
        #expect(output.contains(#"PANE 1 <pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#), "\(output)")
        #expect(output.contains("ROWS 1 3"), "the header and the challenge's two bids")
        #expect(output.contains("ROWS 2 2") && output.contains("ROWS 3 2"), "\(output)")
        #expect(output.contains("MONEY 1 ['1234.5678']"), "money is a number in 万元: \(output)")
        #expect(output.contains("TEXT 1 ['金昌参与单位&amp;&lt;1&gt;']"), "\(output)")
        let widths = output.split(separator: "\n").first { $0.hasPrefix("COLS 2") } ?? ""
        // A long title is capped at 60 widths; the lead's name (17 Chinese characters) gets its 34 and a margin.
        #expect(widths.contains("('2', '60.7") && widths.contains("('3', '36.7"), "\(widths)")
        #expect(SummaryWorkbook.width("白银有色集团股份有限公司稀土分公司") == 34)
        #expect(SummaryWorkbook.sheetName(number: 4, challengeID: 11, title: "a/b:c*d?e[f]g\\h", used: []) == "4 a b c d e f g h")
    }

    @Test("A CSV field that starts like a formula (=, +, -, @, tab, carriage return) is neutralised, and a line break is quoted")
    func csvNeutralises() {
        #expect(BidSummary.quote("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        for prefix in ["+", "-", "@", "\t", "\r"] {
            #expect(BidSummary.quote(prefix + "SUM(A1)") == "\"'\(prefix)SUM(A1)\"", "\(prefix.debugDescription)")
        }
        #expect(BidSummary.quote("甲\n乙") == "\"甲\n乙\"", "a lone line feed is quoted")
        #expect(BidSummary.quote("甲\r\n乙") == "\"甲\r\n乙\"")
        #expect(BidSummary.quote("兰州,金昌") == "\"兰州,金昌\"")
        #expect(BidSummary.quote("稀土永磁") == "稀土永磁")
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
            let warm = try await server.send(
                "GET", "/v1/programmes/\(table.world.programme)/bids/summary?region=620300", token: table.token)
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

    @Test(
        "A failure mid-stream (a table or the database gone between two pages) cuts the download short: the connection ends, it never hangs",
        arguments: Failure.allCases)
    func failureEndsTheResponse(_ failure: Failure) async throws {
        try await TestDatabase.withFreshDatabase { db in
            // 5,000 rows of about 1.4 KB (the units' names at their longest): about 7 MB of CSV, more than the socket
            // buffers can take (the server's send buffer grows to 4 MiB on Linux's defaults) and than the
            // channel's high water mark, so pages are still to come when the failure strikes.
            let table = try await SummaryTable.make(db, bids: 5_000)
            try await db.execute(
                """
                UPDATE units SET name = repeat('长', 200)
                WHERE id IN (\(table.world.leads[0].unitID), \(table.world.partners[0].unitID))
                """)
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

import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("The largest payloads the API accepts, through a real server")
struct LargePayloadTests {
    @Test("A 20 MiB attachment is stored whole and downloaded byte for byte; one byte more is refused with 413", .timeLimit(.minutes(3)))
    func largestAttachment() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            let server = try await RunningServer.start(on: db)
            let token = world.leads[0].token
            // Built from a repeated 4 KiB block: a byte-by-byte loop costs seconds of a shared CPU in a debug build.
            let block = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            var pdf = Data("%PDF-1.7\n".utf8)
            while pdf.count < BidAttachments.maximumSize { pdf.append(block) }
            pdf = pdf.prefix(BidAttachments.maximumSize)
            let upload = try await server.send(
                "POST", "/v1/bids/\(bid)/attachments?filename=%E6%8A%80%E6%9C%AF%E6%96%B9%E6%A1%88.pdf", token: token,
                headers: ["Content-Type": "application/pdf"], body: pdf)
            #expect(upload.status == 201, "\(String(decoding: upload.body, as: UTF8.self))")
            let attachment = try JSONSerialization.jsonObject(with: upload.body) as? [String: Any]
            #expect(attachment?["sizeBytes"] as? Int == BidAttachments.maximumSize)
            let id = attachment?["id"] as? Int ?? 0
            let download = try await server.send("GET", "/v1/bids/\(bid)/attachments/\(id)", token: token)
            #expect(download.status == 200)
            #expect(download.body == pdf)

            let tooLarge = try await server.send(
                "POST", "/v1/bids/\(bid)/attachments?filename=b.pdf", token: token,
                headers: ["Content-Type": "application/pdf"], body: pdf + Data([0]))
            #expect(tooLarge.status == 413)
            let refusal = try JSONSerialization.jsonObject(with: tooLarge.body) as? [String: Any]
            #expect((refusal?["detail"] as? String)?.contains("\(PDFUpload.maximumSize) bytes") == true)
            #expect((refusal?["errors"] as? [[String: String]])?.first?["field"] == "body")
            let stored = try await db.query("SELECT count(*) FROM bid_attachments").first!.decode(Int.self)
            #expect(stored == 1)
            #expect(await server.stop() == 0)
        }
    }

    @Test(
        "A bid draft with every text at its longest is saved, and a bid at the longest a submission allows is submitted",
        .timeLimit(.minutes(3)))
    func longestBidTexts() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            let server = try await RunningServer.start(on: db)
            let token = world.leads[0].token
            let text = { (count: Int) in String(repeating: "稀土永磁材料", count: count / 6 + 1).prefix(count).description }
            let person = ["name": text(100), "title": text(100), "unit": text(200), "role": text(200)]
            var content: [String: Any] = [
                "technicalRoute": text(20_000), "rdFoundation": text(20_000),
                "indicatorAnswers": Array(repeating: text(2000), count: 50), "totalInvestmentFen": 1_000_000_000,
                "selfFundingFen": 500_000_000, "requestedFundingFen": 100_000_000,
                "team": Array(repeating: person, count: 100), "completionCommitment": true,
            ]
            var revision = try await Self.revision(of: bid, server: server, token: token)
            let draft = try await server.send(
                "PUT", "/v1/bids/\(bid)", token: token, headers: ["Content-Type": "application/json", "If-Match": "\"\(revision)\""],
                body: try JSONSerialization.data(withJSONObject: content))
            #expect(draft.status == 200, "\(String(decoding: draft.body.prefix(2000), as: UTF8.self))")

            content["indicatorAnswers"] = Array(repeating: text(2000), count: 2)
            revision = try await Self.revision(of: bid, server: server, token: token)
            let final = try await server.send(
                "PUT", "/v1/bids/\(bid)", token: token, headers: ["Content-Type": "application/json", "If-Match": "\"\(revision)\""],
                body: try JSONSerialization.data(withJSONObject: content))
            #expect(final.status == 200)
            let submit = try await server.send("POST", "/v1/bids/\(bid)/submit", token: token)
            #expect(submit.status == 200, "\(String(decoding: submit.body.prefix(2000), as: UTF8.self))")
            let stored = try await db.query(
                "SELECT length(content->'content'->>'technicalRoute'), jsonb_array_length(content->'content'->'team') FROM bid_submissions WHERE bid_id = \(bid)"
            ).first?.decode((Int, Int).self)
            #expect(stored?.0 == 20_000 && stored?.1 == 100)
            #expect(await server.stop() == 0)
        }
    }

    @Test("A demand table of 10,000 rows is imported whole by jiebang demands import", .timeLimit(.minutes(3)))
    func largestDemandImport() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await db.execute(
                """
                INSERT INTO units (kind, name, credit_code, region_code, contact_name, contact_phone, contact_email, verification, decided_at)
                VALUES ('enterprise', '兰州某新材料有限公司', '91330100799655058B', '620100', '张工', '0931-8888888', 'a@b.cn', 'verified', now())
                """)
            let rows = (0..<10_000).map { index in
                "兰州市,兰州某新材料有限公司,91330100799655058B,民营、高新技术,有色冶金,需求编号 \(index) 的稀土永磁材料高温稳定性提升,"
                    + "\"场地、设备,资金500万元\",张工,0931-8888888,a@b.cn,"
            }
            let file = FileManager.default.temporaryDirectory.appending(path: "demands-\(UUID().uuidString.prefix(8)).csv")
            try ([Self.demandHeader] + rows).joined(separator: "\r\n").write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let server = try await TestDatabase.serverConnectionString()
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let process = try ChildProcess(
                ChildProcess.builtProduct("jiebang"), ["demands", "import", file.path],
                environment: ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"])
            let status = await process.waitForExit(timeout: .seconds(150))
            #expect(status == 0, "\(process.output.suffix(2000))")
            #expect(try await db.query("SELECT count(*) FROM demands").first!.decode(Int.self) == 10_000)
        }
    }

    static let demandHeader = "所在市州,企业名称,统一社会信用代码,企业性质,所属重点产业链,技术需求,支持条件,联系人,联系电话,电子邮箱,备注"

    static func revision(of bid: Int, server: RunningServer, token: String) async throws -> Int {
        let answer = try await server.send("GET", "/v1/bids/\(bid)", token: token)
        let tag = answer.headers["etag"] ?? ""
        return Int(tag.replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "W/", with: "")) ?? 0
    }
}

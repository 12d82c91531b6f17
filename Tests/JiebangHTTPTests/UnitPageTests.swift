import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Postgres
import Testing

@testable import JiebangHTTP

@Suite("The unit's workspace")
struct UnitPageTests {
    /// A multipart/form-data body with `fields` and one file in the field `file`.
    static func multipart(
        boundary: String = "----jiebangTestBoundary7MA4YWxk", fields: [(String, String)], filename: String?, bytes: [UInt8]
    ) -> ByteBuffer {
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        if let filename {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/pdf\r\n\r\n"
                    .utf8)
            body += bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return ByteBuffer(bytes: body)
    }

    static func upload(
        _ client: some TestClientProtocol, _ uri: String, token: String, body: ByteBuffer,
        contentType: String = "multipart/form-data; boundary=----jiebangTestBoundary7MA4YWxk"
    ) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, html: String) {
        let response = try await client.execute(
            uri: uri, method: .post, headers: [.cookie: "\(PageSession.cookieName)=\(token)", .contentType: contentType], body: body)
        return (response.status, response.headers, String(buffer: response.body))
    }

    static let pdf = Array("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".utf8)

    @Test(
        "A lead drafts from the challenge's page, sees the blocking rules in Chinese, fills the bid in, invites a partner whose admin accepts on its own page, uploads a PDF, submits with the database's receipt and withdraws"
    )
    func wholeBid() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1)
            let lead = world.leads[0]
            let partner = world.partners[0]
            let leadCSRF = ExpertPageTests.csrf(lead.token)
            let partnerCSRF = ExpertPageTests.csrf(partner.token)
            let challenge = world.challenges[0]
            let partnerCode = try await db.withConnection {
                try await $0.query("SELECT credit_code FROM units WHERE id = \(partner.unitID)").first!.decode(String.self)
            }
            try await world.fixture.application().test(.router) { client in
                let challengePage = try await ExpertPageTests.page(client, .get, "/challenges/\(challenge)", token: lead.token)
                #expect(challengePage.html.contains("action=\"/unit/bids\""))
                #expect(challengePage.html.contains("name=\"challengeID\" value=\"\(challenge)\""))
                let anonymous = try await ExpertPageTests.page(client, .get, "/challenges/\(challenge)", token: nil)
                #expect(!anonymous.html.contains("action=\"/unit/bids\""))
                #expect(anonymous.html.contains("/sign-in?next=/challenges/\(challenge)"))

                let forged = try await ExpertPageTests.page(
                    client, .post, "/unit/bids", token: lead.token, form: [("challengeID", "\(challenge)")])
                #expect(forged.status == .forbidden)
                let drafted = try await ExpertPageTests.page(
                    client, .post, "/unit/bids", token: lead.token, form: [("csrf", leadCSRF), ("challengeID", "\(challenge)")])
                #expect(drafted.status == .seeOther)
                let location = try #require(drafted.headers[.location])
                #expect(location.hasPrefix("/unit/bids/") && location.hasSuffix("?done=drafted"))
                let bid = try #require(Int(location.dropFirst("/unit/bids/".count).prefix { $0.isNumber }))

                let empty = try await ExpertPageTests.page(client, .get, "/unit/bids/\(bid)", token: lead.token)
                #expect(empty.status == .ok)
                #expect(empty.html.contains("id=\"blockers\""))
                #expect(empty.html.contains("技术路线：必须填写"))
                #expect(empty.html.contains("联合体：联合体至少需要 1 家已接受邀请的合作单位，现有 0 家"))
                #expect(empty.html.contains("完成承诺：牵头单位须承诺在榜单的时限要求内完成攻关"))
                #expect(!empty.html.contains("id=\"submit-form\""))
                #expect(!empty.html.contains("must "), "no English rule shows on the page")

                let badAmount = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/content", token: lead.token,
                    form: [("csrf", leadCSRF), ("revision", "1"), ("technicalRoute", "保留的文字"), ("total", "一千")])
                #expect(badAmount.status == .unprocessableContent)
                #expect(badAmount.html.contains("项目总投资：应为以万元计的数字"))
                #expect(badAmount.html.contains(">保留的文字</textarea>"), "the typed text stays in its field")

                let revision = try await db.withConnection {
                    try await $0.query("SELECT revision FROM bids WHERE id = \(bid)").first!.decode(Int.self)
                }
                let expected = BidWorld.content()
                let saved = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/content", token: lead.token,
                    form: [
                        ("csrf", leadCSRF), ("revision", "\(revision)"), ("technicalRoute", expected.technicalRoute),
                        ("rdFoundation", expected.rdFoundation), ("answer.0", expected.indicatorAnswers[0]),
                        ("answer.1", expected.indicatorAnswers[1]), ("total", "1,000"), ("selfFunding", "500"), ("requested", "100"),
                        ("team", "王强，正高级工程师，兰州牵头企业，项目负责人\n"), ("commitment", "yes"),
                    ])
                #expect(saved.status == .seeOther)
                let stored = try await db.withConnection { try await BidStore.bid(id: bid, for: lead.actor, on: $0) }
                #expect(stored.content == expected)

                let stale = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/content", token: lead.token,
                    form: [("csrf", leadCSRF), ("revision", "\(revision)"), ("technicalRoute", "被覆盖的文字")])
                #expect(stale.status == .preconditionFailed || stale.status == .conflict)
                #expect(stale.html.contains("内容已被他人修改"))

                let typo = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/members", token: lead.token,
                    form: [("csrf", leadCSRF), ("creditCode", String(partnerCode.dropLast()) + (partnerCode.last == "0" ? "1" : "0"))])
                #expect(typo.status == .unprocessableContent)
                #expect(typo.html.contains("统一社会信用代码：校验位不符"))
                let stranger = try CreditCode.completing("91620100MA9999999")
                let unknown = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/members", token: lead.token,
                    form: [("csrf", leadCSRF), ("creditCode", stranger.value)])
                #expect(unknown.status == .unprocessableContent)
                #expect(unknown.html.contains("没有以 \(stranger.value) 登记的单位"))
                let invited = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/members", token: lead.token,
                    form: [("csrf", leadCSRF), ("creditCode", partnerCode.lowercased())])
                #expect(invited.status == .seeOther)
                let twice = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/members", token: lead.token, form: [("csrf", leadCSRF), ("creditCode", partnerCode)])
                #expect(twice.status == .conflict)
                #expect(twice.html.contains("合作单位：该单位已在联合体中"))

                let partnerHome = try await ExpertPageTests.page(client, .get, "/unit", token: partner.token)
                #expect(partnerHome.html.contains("待答复的联合体邀请"))
                #expect(partnerHome.html.contains("<span class=\"badge open\" id=\"unread-count\">1</span>"))
                let inbox = try await ExpertPageTests.page(client, .get, "/inbox", token: partner.token)
                #expect(inbox.html.contains("未读 <strong>1</strong> 条"))
                #expect(inbox.html.contains("href=\"/unit/bids/\(bid)\""))

                let partnerView = try await ExpertPageTests.page(client, .get, "/unit/bids/\(bid)", token: partner.token)
                #expect(partnerView.html.contains("action=\"/unit/bids/\(bid)/response\""))
                #expect(!partnerView.html.contains("id=\"content-form\""))
                #expect(!partnerView.html.contains("id=\"submit-form\""))
                let noPart = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/response", token: partner.token,
                    form: [("csrf", partnerCSRF), ("decision", "accept"), ("partRole", ""), ("tasks", "检测"), ("budget", "50")])
                #expect(noPart.status == .unprocessableContent)
                #expect(noPart.html.contains("承担角色：必须填写"))
                #expect(noPart.html.contains(">检测</textarea>"))
                let accepted = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/response", token: partner.token,
                    form: [
                        ("csrf", partnerCSRF), ("decision", "accept"), ("partRole", BidWorld.part.partRole), ("tasks", BidWorld.part.tasks),
                        ("budget", "50"), ("contribution", BidWorld.part.contribution),
                    ])
                #expect(accepted.status == .seeOther)
                let member = try await db.withConnection { try await BidStore.bid(id: bid, for: lead.actor, on: $0) }.members.first {
                    $0.unitID == partner.unitID
                }
                #expect(member?.status == "accepted")
                #expect(member?.budgetShareFen == BidWorld.part.budgetShareFen)

                let notPDF = try await Self.upload(
                    client, "/unit/bids/\(bid)/attachments", token: lead.token,
                    body: Self.multipart(fields: [("csrf", leadCSRF)], filename: "申报书.pdf", bytes: Array("hello".utf8)))
                #expect(notPDF.status == .unprocessableContent)
                #expect(notPDF.html.contains("文件：不是 PDF 文件"))
                let noToken = try await Self.upload(
                    client, "/unit/bids/\(bid)/attachments", token: lead.token,
                    body: Self.multipart(fields: [], filename: "申报书.pdf", bytes: Self.pdf))
                #expect(noToken.status == .forbidden)
                let cut = try await Self.upload(
                    client, "/unit/bids/\(bid)/attachments", token: lead.token,
                    body: ByteBuffer(string: "------jiebangTestBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nx"))
                #expect(cut.status == .badRequest)
                let uploaded = try await Self.upload(
                    client, "/unit/bids/\(bid)/attachments", token: lead.token,
                    body: Self.multipart(fields: [("csrf", leadCSRF)], filename: "申报书 %22终稿%22.pdf", bytes: Self.pdf))
                #expect(uploaded.status == .seeOther)
                let files = try await db.withConnection {
                    try await $0.query("SELECT filename, sha256, data FROM bid_attachments WHERE bid_id = \(bid)").decode(
                        (String, String, Data).self)
                }
                #expect(files.count == 1)
                #expect(files.first?.0 == "申报书 \"终稿\".pdf")
                #expect(files.first?.2 == Data(Self.pdf))
                #expect(files.first?.1 == SHA256Hex.digest(of: Self.pdf))

                let ready = try await ExpertPageTests.page(client, .get, "/unit/bids/\(bid)", token: lead.token)
                #expect(!ready.html.contains("id=\"blockers\""))
                #expect(ready.html.contains("id=\"submit-form\""))
                let submitted = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/submit", token: lead.token, form: [("csrf", leadCSRF)])
                #expect(submitted.status == .seeOther)
                let digest = try await db.withConnection {
                    try await $0.query("SELECT sha256 FROM bid_submissions WHERE bid_id = \(bid) AND version = 1").first!.decode(
                        String.self)
                }
                let receipt = try await ExpertPageTests.page(client, .get, "/unit/bids/\(bid)?done=submitted", token: lead.token)
                #expect(receipt.html.contains("<td class=\"receipt-version\">1</td>"))
                #expect(receipt.html.contains("<code>\(digest)</code>"))
                #expect(!receipt.html.contains("id=\"content-form\""), "a submitted bid is no longer edited")
                #expect(!receipt.html.contains("id=\"submit-form\""), "nor submitted again unchanged")

                let unconfirmed = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/withdraw", token: lead.token, form: [("csrf", leadCSRF)])
                #expect(unconfirmed.status == .unprocessableContent)
                let byPartner = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/withdraw", token: partner.token, form: [("csrf", partnerCSRF), ("confirm", "yes")])
                #expect(byPartner.status == .forbidden)
                let withdrawn = try await ExpertPageTests.page(
                    client, .post, "/unit/bids/\(bid)/withdraw", token: lead.token, form: [("csrf", leadCSRF), ("confirm", "yes")])
                #expect(withdrawn.status == .seeOther)
                #expect(withdrawn.headers[.location] == "/unit?done=withdrawn")
                let status = try await db.withConnection { try await BidStore.bid(id: bid, for: lead.actor, on: $0) }.status
                #expect(status == .withdrawn)
            }
        }
    }

    @Test(
        "A pending unit's workspace says it awaits verification and takes its licence; 我要揭榜 is refused in Chinese; once verified the notice is gone"
    )
    func pendingUnitWorkspace() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 0, minPartners: 0)
            let lead = world.leads[0]
            // The unit was registered by an administrator; make it one that registered itself and waits.
            try await db.execute(
                "UPDATE units SET verification = 'pending', decided_at = NULL, decided_by = NULL, decision_note = NULL WHERE id = \(lead.unitID)"
            )
            let csrf = ExpertPageTests.csrf(lead.token)
            try await world.fixture.application().test(.router) { client in
                let waiting = try await ExpertPageTests.page(client, .get, "/unit", token: lead.token)
                #expect(waiting.html.contains("本单位尚待所在市州工信部门核实"))
                #expect(waiting.html.contains("action=\"/unit/licence\""))
                let refused = try await ExpertPageTests.page(
                    client, .post, "/unit/bids", token: lead.token, form: [("csrf", csrf), ("challengeID", "\(world.challenges[0])")])
                #expect(refused.status == .conflict)
                #expect(refused.html.contains("尚待所在市州工信部门核实（请上传营业执照），核实后方可申报"), "\(refused.html)")

                let notPDF = try await Self.upload(
                    client, "/unit/licence", token: lead.token,
                    body: Self.multipart(fields: [("csrf", csrf)], filename: "执照.pdf", bytes: Array("GIF89a".utf8)))
                #expect(notPDF.status == .unprocessableContent)
                #expect(notPDF.html.contains("不是 PDF 文件"))
                let uploaded = try await Self.upload(
                    client, "/unit/licence", token: lead.token,
                    body: Self.multipart(fields: [("csrf", csrf)], filename: "营业执照.pdf", bytes: Self.pdf))
                #expect(uploaded.status == .seeOther)
                let after = try await ExpertPageTests.page(client, .get, "/unit?done=licence", token: lead.token)
                #expect(after.html.contains("营业执照已上传"))
                #expect(after.html.contains("已上传：营业执照.pdf"))
                let noToken = try await Self.upload(
                    client, "/unit/licence", token: lead.token, body: Self.multipart(fields: [], filename: "营业执照.pdf", bytes: Self.pdf))
                #expect(noToken.status == .forbidden)

                let decided = try await client.call(
                    .post, "/v1/units/\(lead.unitID)/verification", as: "lanzhou", fixture: world.fixture, json: ["decision": "verified"])
                #expect(decided.status == .ok)
                let verified = try await ExpertPageTests.page(client, .get, "/unit", token: lead.token)
                #expect(!verified.html.contains("单位核实"))
                let drafted = try await ExpertPageTests.page(
                    client, .post, "/unit/bids", token: lead.token, form: [("csrf", csrf), ("challengeID", "\(world.challenges[0])")])
                #expect(drafted.status == .seeOther)
            }
        }
    }

    @Test("The workspace shows each open demand's best suggestions from the result and talent pools once the queue has matched it")
    func demandSuggestions() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await db.withTransaction { tx in
                try await PoolMatchingTests.insertDemand(
                    unit: fixture.unitA, need: "镍钴湿法冶金中高压酸浸的连续化与回收率提升", chain: "有色冶金", on: tx)
                _ = try await PoolMatchingTests.insertResult(
                    unit: fixture.unitB, title: "镍钴湿法冶金连续化工艺", summary: "高压酸浸提取镍钴的连续化工艺", keywords: ["镍钴"],
                    chain: "有色冶金", on: tx)
                _ = try await PoolMatchingTests.insertTalent(
                    unit: fixture.unitB, fields: ["湿法冶金"], keywords: ["高压酸浸"], summary: "镍钴湿法冶金与高压酸浸工艺", chains: ["有色冶金"],
                    on: tx)
            }
            try await fixture.application().test(.router) { client in
                let before = try await ExpertPageTests.page(client, .get, "/unit", token: fixture.tokens["memberA"]!)
                #expect(before.status == .ok)
                #expect(!before.html.contains("成果：镍钴湿法冶金连续化工艺"))
                try await PoolMatchingTests.drainRematches(db)
                let after = try await ExpertPageTests.page(client, .get, "/unit", token: fixture.tokens["memberA"]!)
                #expect(after.html.contains("成果：镍钴湿法冶金连续化工艺（"), "\(after.html)")
                #expect(after.html.contains("人才：张研究员（"))
            }
        }
    }

    @Test(
        "The workspace lists the unit's demands with their half-yearly refresh: one is confirmed, one lapsing soon is flagged, closing needs its tick and is final, another unit's is not found"
    )
    func demandRefresh() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 0, minPartners: 0)
            let lead = world.leads[0]
            let demand = try await DemandRefreshTests.file(lead, need: "稀土永磁材料的低成本制备工艺", db)
            let others = try await DemandRefreshTests.file(world.leads[1], need: "工业机器人减速器的国产替代", db)
            try await db.execute("UPDATE demands SET confirmed_at = now() - interval '5 months 20 days' WHERE id = \(demand)")
            let csrf = ExpertPageTests.csrf(lead.token)
            try await world.fixture.application().test(.router) { client in
                let listed = try await ExpertPageTests.page(client, .get, "/unit", token: lead.token)
                #expect(listed.html.contains("id=\"demand-\(demand)\""))
                #expect(listed.html.contains("即将到期"))
                #expect(!listed.html.contains("id=\"demand-\(others)\""))

                let confirmed = try await ExpertPageTests.page(
                    client, .post, "/unit/demands/\(demand)/confirm", token: lead.token, form: [("csrf", csrf)])
                #expect(confirmed.status == .seeOther)
                let after = try await ExpertPageTests.page(client, .get, "/unit?done=demand-confirmed", token: lead.token)
                #expect(after.html.contains("需求已确认"))
                #expect(!after.html.contains("即将到期"))

                let untouched = try await ExpertPageTests.page(
                    client, .post, "/unit/demands/\(demand)/close", token: lead.token, form: [("csrf", csrf)])
                #expect(untouched.status == .unprocessableContent)
                #expect(untouched.html.contains("关闭需求须勾选「确认关闭」"))
                let stranger = try await ExpertPageTests.page(
                    client, .post, "/unit/demands/\(others)/close", token: lead.token, form: [("csrf", csrf), ("confirm", "yes")])
                #expect(stranger.status == .notFound)
                let closed = try await ExpertPageTests.page(
                    client, .post, "/unit/demands/\(demand)/close", token: lead.token, form: [("csrf", csrf), ("confirm", "yes")])
                #expect(closed.status == .seeOther)
                let again = try await ExpertPageTests.page(
                    client, .post, "/unit/demands/\(demand)/confirm", token: lead.token, form: [("csrf", csrf)])
                #expect(again.status == .conflict)
                #expect(again.html.contains("需求 \(demand) 已关闭"), "\(again.html)")
                let forged = try await ExpertPageTests.page(
                    client, .post, "/unit/demands/\(others)/confirm", token: lead.token, form: [("csrf", "forged")])
                #expect(forged.status == .forbidden)
                let states = try await db.query("SELECT status FROM demands ORDER BY id").decode(String.self)
                #expect(states == ["closed", "open"])
            }
        }
    }

    @Test("Another unit's bid, its attachments and its forms are not-found pages, and the workspace is for units' people only")
    func othersBids() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            let attachment = try await db.withTransaction {
                try await BidAttachments.add(
                    bidID: bid, filename: "a.pdf", contentType: "application/pdf", bytes: Self.pdf, by: world.leads[0].actor, on: $0
                ).id
            }
            let rival = world.leads[1]
            let csrf = ExpertPageTests.csrf(rival.token)
            try await world.fixture.application().test(.router) { client in
                let own = try await ExpertPageTests.page(
                    client, .get, "/unit/bids/\(bid)/attachments/\(attachment)", token: world.leads[0].token)
                #expect(own.status == .ok)
                #expect(own.html.hasPrefix("%PDF-"))
                for uri in ["/unit/bids/\(bid)", "/unit/bids/\(bid)/attachments/\(attachment)", "/unit/bids/999999"] {
                    let page = try await ExpertPageTests.page(client, .get, uri, token: rival.token)
                    #expect(page.status == .notFound, "\(uri)")
                    #expect(!page.html.contains("晶界扩散"), "nothing of the bid shows")
                }
                for action in ["content", "members", "response", "submit", "withdraw"] {
                    let page = try await ExpertPageTests.page(
                        client, .post, "/unit/bids/\(bid)/\(action)", token: rival.token,
                        form: [
                            ("csrf", csrf), ("revision", "1"), ("confirm", "yes"), ("decision", "decline"),
                            ("creditCode", "91620100MA0000000X"),
                        ])
                    #expect([.notFound, .unprocessableContent].contains(page.status), "\(action): \(page.status)")
                    #expect(!page.html.contains("晶界扩散"))
                }
                let upload = try await Self.upload(
                    client, "/unit/bids/\(bid)/attachments", token: rival.token,
                    body: Self.multipart(fields: [("csrf", csrf)], filename: "x.pdf", bytes: Self.pdf))
                #expect(upload.status == .notFound)
                let expert = try await ExpertPageTests.page(client, .get, "/unit", token: world.fixture.tokens["expert"])
                #expect(expert.status == .forbidden)
                let anonymous = try await ExpertPageTests.page(client, .get, "/unit", token: nil)
                #expect(anonymous.status == .found)
                #expect(anonymous.headers[.location] == "/sign-in?next=%2Funit")
                let count = try await db.withConnection {
                    try await $0.query("SELECT count(*) FROM bid_attachments WHERE bid_id = \(bid)").first!.decode(Int.self)
                }
                #expect(count == 1, "the rival's upload left nothing")
            }
        }
    }

    @Test("The inbox counts the unread, marks one read with its token, and another person's notification is not found")
    func inbox() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1)
            _ = try await world.consortium(
                lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0], accepted: false)
            let partner = world.partners[0]
            let id = try await db.withConnection {
                try await $0.query("SELECT id FROM notifications WHERE user_id = \(partner.userID)").first!.decode(Int.self)
            }
            try await world.fixture.application().test(.router) { client in
                let before = try await ExpertPageTests.page(client, .get, "/inbox", token: partner.token)
                #expect(before.html.contains("未读 <strong>1</strong> 条"))
                let forged = try await ExpertPageTests.page(client, .post, "/inbox/\(id)/read", token: partner.token, form: [("x", "1")])
                #expect(forged.status == .forbidden)
                let other = try await ExpertPageTests.page(
                    client, .post, "/inbox/\(id)/read", token: world.leads[0].token,
                    form: [("csrf", ExpertPageTests.csrf(world.leads[0].token))])
                #expect(other.status == .notFound)
                let read = try await ExpertPageTests.page(
                    client, .post, "/inbox/\(id)/read", token: partner.token, form: [("csrf", ExpertPageTests.csrf(partner.token))])
                #expect(read.status == .seeOther)
                let after = try await ExpertPageTests.page(client, .get, "/inbox", token: partner.token)
                #expect(after.html.contains("未读 <strong>0</strong> 条"))
                let anonymous = try await ExpertPageTests.page(client, .get, "/inbox", token: nil)
                #expect(anonymous.status == .found)
            }
        }
    }

    @Test("Hostile requests to the unit's pages get 4xx pages, never a 5xx, and write nothing")
    func hostileRequests() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            let lead = world.leads[0]
            let csrf = ExpertPageTests.csrf(lead.token)
            let before = try await db.withConnection {
                try await $0.query("SELECT revision FROM bids WHERE id = \(bid)").first!.decode(Int.self)
            }
            try await world.fixture.application().test(.router) { client in
                let cookie = "\(PageSession.cookieName)=\(lead.token)"
                func send(_ method: HTTPRequest.Method, _ uri: String, type: String?, _ body: [UInt8]) async throws -> HTTPResponse.Status {
                    var headers: HTTPFields = [.cookie: cookie]
                    if let type { headers[.contentType] = type }
                    return try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(bytes: body)).status
                }
                let form = "application/x-www-form-urlencoded"
                let cases: [(HTTPRequest.Method, String, String?, [UInt8])] = [
                    (.post, "/unit/bids", form, Array("csrf=\(csrf)&challengeID=abc".utf8)),
                    (.post, "/unit/bids", form, Array("csrf=\(csrf)&challengeID=99999999999999999999".utf8)),
                    (.post, "/unit/bids", form, Array("csrf=\(csrf)&challengeID=999999".utf8)),
                    (.post, "/unit/bids/\(bid)/content", form, Array("csrf=\(csrf)&revision=\(before)&total=1e400&team=%FF%FE".utf8)),
                    (.post, "/unit/bids/\(bid)/content", form, Array("csrf=\(csrf)&revision=\(before)&technicalRoute=a%00b".utf8)),
                    (.post, "/unit/bids/\(bid)/content", form, Array("csrf=\(csrf)&revision=x".utf8)),
                    (
                        .post, "/unit/bids/\(bid)/content", form,
                        Array("csrf=\(csrf)&revision=\(before)&answer.0=\(String(repeating: "长", count: 3000))".utf8)
                    ),
                    (.post, "/unit/bids/\(bid)/members", form, Array("csrf=\(csrf)&creditCode=%E2%80%AE91620".utf8)),
                    (.post, "/unit/bids/\(bid)/response", form, Array("csrf=\(csrf)&decision=accept&budget=-5".utf8)),
                    (.post, "/unit/bids/\(bid)/submit", "text/plain", Array("csrf=\(csrf)".utf8)),
                    (.post, "/unit/bids/\(bid)/attachments", "multipart/form-data", Array("x".utf8)),
                    (
                        .post, "/unit/bids/\(bid)/attachments", "multipart/form-data; boundary=\(String(repeating: "b", count: 200))",
                        Array("x".utf8)
                    ),
                    (.post, "/unit/bids/\(bid)/attachments", "multipart/form-data; boundary=b", Array("--b\r\n\r\n--b--".utf8)),
                    (
                        .post, "/unit/bids/\(bid)/attachments", "multipart/form-data; boundary=b",
                        [UInt8](repeating: 0x41, count: PageUpload.maximumSize + 10)
                    ),
                    (.get, "/unit/bids/abc", nil, []), (.get, "/unit/bids/\(bid)/attachments/abc", nil, []),
                    (.get, "/unit/bids/-1", nil, []), (.post, "/inbox/abc/read", form, Array("csrf=\(csrf)".utf8)),
                    (.get, "/inbox?before=-5", nil, []), (.get, "/inbox?before=99999999999999999999999", nil, []),
                ]
                for (method, uri, type, body) in cases {
                    let status = try await send(method, uri, type: type, body)
                    #expect(status.code >= 200 && status.code < 500, "\(method) \(uri) \(type ?? "") → \(status)")
                }
                let (revision, attachments) = try await db.withConnection { db in
                    (
                        try await db.query("SELECT revision FROM bids WHERE id = \(bid)").first!.decode(Int.self),
                        try await db.query("SELECT count(*) FROM bid_attachments").first!.decode(Int.self)
                    )
                }
                #expect(revision == before && attachments == 0, "nothing was half-written")
            }
        }
    }

    @Test("A multipart body is cut at its boundaries, and a malformed one is refused whole")
    func multipartParsing() throws {
        let body = Array(
            Self.multipart(fields: [("csrf", "t"), ("note", "多行\r\n文字")], filename: "a.pdf", bytes: Self.pdf).readableBytesView)
        let parsed = try #require(PageUpload.parse(body, boundary: "----jiebangTestBoundary7MA4YWxk"))
        #expect(parsed["csrf"] == "t")
        #expect(parsed["note"] == "多行\r\n文字")
        #expect(parsed.files["file"]?.bytes == Self.pdf)
        #expect(parsed.files["file"]?.filename == "a.pdf")
        #expect(PageUpload.boundary(of: "multipart/form-data; boundary=\"abc def\"") == "abc def")
        #expect(PageUpload.boundary(of: "multipart/form-data; boundary=") == nil)
        #expect(PageUpload.boundary(of: "multipart/form-data; boundary=\(String(repeating: "x", count: 71))") == nil)
        #expect(PageUpload.boundary(of: "multipart/form-data") == nil)
        let hostile: [String] = [
            "", "--b", "--b\r\n", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "--bX\r\n\r\n--b--",
            "--b\r\nNoColon\r\n\r\nx\r\n--b--", "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--",
            "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--",
        ]
        for text in hostile { #expect(PageUpload.parse(Array(text.utf8), boundary: "b") == nil, "\(text.debugDescription)") }
        var invalidUTF8 = Array("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".utf8)
        invalidUTF8 += [0xFF, 0xFE] + Array("\r\n--b--".utf8)
        #expect(PageUpload.parse(invalidUTF8, boundary: "b") == nil)
        let many = String(repeating: "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n", count: 40) + "--b--"
        #expect(PageUpload.parse(Array(many.utf8), boundary: "b") == nil, "more than 32 parts are refused")
    }

    @Test("Amounts in 万元 become exact fen, and anything else is refused")
    func wanAmounts() {
        #expect(PageFormat.fen(wan: "1,000") == 1_000_000_000)
        #expect(PageFormat.fen(wan: "0.000001") == 1)
        #expect(PageFormat.fen(wan: " 12.5 ") == 12_500_000)
        for bad in ["", "-1", "1.", ".5", "1.0000001", "一千", "1e3", "9999999999999.9", "１２"] {
            #expect(PageFormat.fen(wan: bad) == nil, "\(bad)")
        }
        #expect(PageFormat.wanInput(fen: 1_000_000_000) == "1000")
        #expect(PageFormat.wanInput(fen: 12_500_000) == "12.5")
        #expect(PageFormat.fen(wan: PageFormat.wanInput(fen: 123_456_789)) == 123_456_789)
    }

    @Test("Every rule that blocks a submission reads as Chinese")
    func blockersInChinese() {
        let issues: [FieldIssue] = [
            .init(field: "technicalRoute", message: "must have 10 to 20000 characters, not 4"),
            .init(field: "indicatorAnswers", message: "must answer each of the challenge's 2 indicators, not 0"),
            .init(field: "indicatorAnswers[1]", message: "is required"),
            .init(field: "totalInvestmentFen", message: "must be positive"),
            .init(field: "team", message: "must name at least one person"),
            .init(field: "completionCommitment", message: "the lead must commit to finish by the challenge's completion deadline"),
            .init(
                field: "requestedFundingFen", message: "1,000,000.00 元 is more than the programme allows for this project (500,000.00 元)"),
            .init(field: "requestedFundingFen", message: "1,000,000.00 元 is more than the challenge's funding ceiling (500,000.00 元)"),
            .init(field: "selfFundingFen", message: "self-funding plus requested funding must not exceed the total investment"),
            .init(field: "members", message: "the consortium needs at least 2 accepted partner(s); it has 1"),
            .init(field: "members", message: "the consortium may have at most 3 units; it has 4"),
            .init(
                field: "members",
                message: "unit 7 (金昌稀土) is already in live bid 12 of this programme; each unit may apply for one challenge only"),
            .init(field: "status", message: "a recommended bid cannot be submitted"),
            .init(field: "challengeID", message: "the application deadline of challenge 3 has passed"),
            .init(field: "challengeID", message: "challenge 3 is closed, not open for bids"),
        ]
        for issue in issues {
            let text = PageMessages.chinese(issue)
            #expect(!text.contains(where: { $0.isASCII && $0.isLetter }), "\(issue) → \(text)")
        }
        #expect(PageMessages.chinese(issues[2]) == "第 2 项指标响应：必须填写")
        #expect(PageMessages.chinese(issues[11]) == "联合体：「金昌稀土」已在本批次的第 12 号申报中；同一批次每家单位只能揭一个榜")
        #expect(PageMessages.chinese(FieldIssue(field: "x", message: "unknown words")) == "x：unknown words")
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Postgres
import Prometheus
import Testing

@testable import JiebangHTTP

/// One operation of the API, how to call it as anyone, and who may.
struct AccessProbe: Sendable {
    /// `METHOD /path/{param}`, as in the OpenAPI document.
    var operation: String
    /// Who gets a 2xx; everyone else gets 401 (anonymous), 404 or 403 (see `expectedStatus`).
    var allowed: Set<String>
    /// Who gets 404 instead of 403: by default, on an operation that names an object in its path, everyone whose
    /// role is the role of someone allowed. Such a person may use the route but not on this object (another unit's,
    /// region's, bureau's or expert's), and learns no more than from an id that does not exist.
    var hidden: Set<String>?
    /// Builds the request for one person (called right before sending it).
    var request: @Sendable (_ person: String, _ serial: Int) async throws -> (HTTPRequest.Method, String, Data?, HTTPFields)

    init(
        operation: String, allowed: Set<String>, hidden: Set<String>? = nil,
        request: @escaping @Sendable (_ person: String, _ serial: Int) async throws -> (HTTPRequest.Method, String, Data?, HTTPFields)
    ) {
        self.operation = operation
        self.allowed = allowed
        self.hidden = hidden
        self.request = request
    }

    /// Whether the operation's path names an object (`{id}` and the like).
    var namesObject: Bool { operation.contains("{") }

    /// The people who get 404: they may use the route, but the object is not theirs.
    var hiddenFrom: Set<String> {
        if let hidden { return hidden }
        guard namesObject else { return [] }
        let roles = Set(allowed.compactMap { APIFixture.roles[$0] })
        return Set(APIFixture.matrixPeople.filter { !allowed.contains($0) && roles.contains(APIFixture.roles[$0]!) })
    }

    /// 2xx, 401, 404 or 403, and whether a status is it.
    func expectedStatus(for person: String) -> (name: String, matches: @Sendable (HTTPResponse.Status) -> Bool) {
        if allowed.contains(person) { return ("2xx", { (200..<300).contains($0.code) }) }
        if person == "anonymous" { return ("401", { $0 == .unauthorized }) }
        if hiddenFrom.contains(person) { return ("404", { $0 == .notFound }) }
        return ("403", { $0 == .forbidden })
    }
}

@Suite("Who may do what")
struct AccessMatrixTests {
    @Test("Every route the server serves is in the OpenAPI document, and every documented operation is served")
    func documentMatchesRouter() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let router = apiRouter(
                database: db, metrics: PrometheusCollectorRegistry(), passwords: PasswordHashingPool(hasher: .fastForTests),
                tokenUses: TokenUseRecorder(database: db))
            let routes = router.routes.map {
                (page: PageMiddleware.isPagePath($0.path.description), name: "\($0.method.rawValue) \($0.path.description)")
            }
            let served = Set(routes.filter { !$0.page }.map(\.name))
            #expect(served == OpenAPIDocument.operations)
            // The pages (HTML for people) are not operations of the API.
            let pages = Set(routes.filter(\.page).map(\.name))
            #expect(
                pages == [
                    "GET /", "GET /challenges/{id}", "GET /programmes", "GET /programmes/{id}", "GET /static/site.css", "GET /sign-in",
                    "POST /sign-in", "POST /sign-out", "GET /expert", "GET /expert/assignments/{id}", "POST /expert/assignments/{id}/score",
                    "POST /expert/assignments/{id}/recusal", "GET /expert/assignments/{id}/attachments/{attachmentID}",
                    "GET /admin/jobs", "GET /admin/jobs/{id}", "POST /admin/jobs/{id}/retry", "POST /admin/jobs/{id}/cancel",
                    "POST /admin/jobs/{id}/discard",
                    "GET /bureau", "GET /bureau/programmes/{id}", "GET /bureau/programmes/{id}/summary", "GET /municipal",
                    "POST /municipal/bids/{id}/decision", "GET /municipal/programmes/{id}/summary", "GET /unit", "POST /unit/bids",
                    "POST /unit/licence", "POST /unit/demands/{id}/confirm", "POST /unit/demands/{id}/close",
                    "GET /unit/bids/{id}", "POST /unit/bids/{id}/content", "POST /unit/bids/{id}/members", "POST /unit/bids/{id}/response",
                    "POST /unit/bids/{id}/attachments", "GET /unit/bids/{id}/attachments/{attachmentID}", "POST /unit/bids/{id}/submit",
                    "POST /unit/bids/{id}/withdraw", "GET /inbox", "POST /inbox/{id}/read",
                ])
            #expect(OpenAPIDocument.operations.count > 20)
        }
    }

    @Test(
        "Every operation answered for every role, anonymous included: allowed ones succeed, others get 401, 403, or 404 for another's object exactly as for a missing one"
    )
    func matrix() async throws {
        try await TestDatabase.withFreshDatabase { db in
            var built = try await APIFixture.make(db)
            try await built.addStrangers()
            let fixture = built
            let setup = try await Self.setUp(fixture)
            let probes = Self.probes(fixture, setup)
            #expect(Set(probes.map(\.operation)) == OpenAPIDocument.operations)
            let everyone = ["anonymous"] + APIFixture.matrixPeople
            try await fixture.application().test(.router) { client in
                var serial = 0
                var failures: [String] = []
                for probe in probes {
                    for person in everyone {
                        serial += 1
                        let (method, uri, body, extra) = try await probe.request(person, serial)
                        var headers = extra
                        if person != "anonymous", headers[.authorization] == nil {
                            headers[.authorization] = "Bearer \(fixture.tokens[person]!)"
                        }
                        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
                        let response = try await client.execute(
                            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
                        let (expected, matches) = probe.expectedStatus(for: person)
                        if !matches(response.status) {
                            let text = String(buffer: response.body)
                            failures.append("\(probe.operation) as \(person): \(response.status.code), expected \(expected) \(text)")
                        } else if expected == "404" {
                            // Another's object answers exactly as an id that does not exist.
                            let ghost = try await client.execute(
                                uri: Self.ghost(uri, operation: probe.operation), method: method, headers: headers,
                                body: body.map { ByteBuffer(bytes: $0) })
                            let seen = Self.problemShape(response.body)
                            let absent = Self.problemShape(ghost.body)
                            if ghost.status != .notFound || seen != absent {
                                failures.append(
                                    "\(probe.operation) as \(person): another's object answers \(seen), a missing one \(ghost.status.code) \(absent)"
                                )
                            }
                        }
                    }
                }
                #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            }
        }
    }

    @Test("Every operation that names an object in its path refuses another's object with 404, unless the object is public")
    func everyObjectRouteHidesOthersObjects() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let probes = Self.probes(fixture, Setup())
            // Generated from the route list: every documented operation whose path names an object.
            let objectRoutes = OpenAPIDocument.operations.filter { $0.contains("{") }
            let guarded = Set(probes.filter { $0.namesObject && !$0.hiddenFrom.isEmpty }.map(\.operation))
            let unguarded = objectRoutes.subtracting(guarded)
            #expect(unguarded == Set(Self.publicObjects.keys), "\(unguarded.sorted())")
            #expect(objectRoutes.count > 60)
        }
    }

    /// Operations on objects anyone (or everyone of each role that may call them) may read or act on, with why.
    static let publicObjects: [String: String] = [
        "GET /v1/board/challenges/{id}": "a published challenge is on the public board",
        "GET /v1/programmes/{id}": "programmes are public",
        "GET /v1/programmes/{id}/rubric": "everyone signed in reads a programme's rubric",
        "POST /v1/challenges/{id}/bids": "every unit may bid for every published challenge",
        "POST /v1/challenges/{id}/objections": "anyone signed in may object to winners on public notice (公示)",
        "PUT /v1/notifications/mutes/{occasion}": "an occasion is a name, not an object; each person mutes their own",
        "DELETE /v1/notifications/mutes/{occasion}": "an occasion is a name, not an object; each person mutes their own",
    ]

    /// `uri` with each number the operation's path takes as a parameter replaced by one no object has.
    static func ghost(_ uri: String, operation: String) -> String {
        let template = operation.split(separator: " ")[1].split(separator: "/", omittingEmptySubsequences: false)
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var segments = parts[0].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for (index, piece) in template.enumerated() where piece.hasPrefix("{") && index < segments.count {
            if Int(segments[index]) != nil { segments[index] = "2000000000" }
        }
        return segments.joined(separator: "/") + (parts.count > 1 ? "?" + parts[1] : "")
    }

    /// A problem's title and detail with every number written N: what tells one refusal from another.
    static func problemShape(_ body: ByteBuffer) -> String {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        let text = "\(object["title"] ?? "") / \(object["detail"] ?? "")"
        return text.replacingOccurrences(of: "[0-9]+", with: "N", options: .regularExpression)
    }

    struct Setup: Sendable {
        var programme = 0
        var openProgramme = 0
        var draft = 0
        var published = 0
        var demand = 0
        /// A result of unit B (an institute, in Jinchang).
        var result = 0
        /// A person of unit B, in the talent pool.
        var talent = 0
        /// Bids, each in a programme of its own (a unit holds one live bid per programme), led by unit A with unit B.
        var submitted = 0
        var toRecommend = 0
        var recommended = 0
        var draftBid = 0
        var toSubmit = 0
        var withdrawChallenge = 0
        var attachment = 0
        /// Units that partners can be invited from, one per call.
        var spareUnits: [Int] = []
        /// A unit in Lanzhou that registered itself, with its licence uploaded: pending its bureau's decision.
        var pendingUnit = 0
        /// A review round with an applied draw over one formally passed bid, and a challenge in no round.
        var reviewProgramme = 0
        var reviewRound = 0
        var unreviewedChallenge = 0
        /// The fixture expert's assignment in `reviewRound`.
        var expertAssignment = 0
        /// The fixture's expert, in the Gansu pool; and another expert of that pool, retired and reinstated.
        var expert = 0
        var retiree = 0
        /// Scoring and award (see `setUpScoring`).
        var scoring = ScoringSetup()
        /// Projects (see `setUpProjects`).
        var projects = ProjectSetup()
    }

    static func setUp(_ fixture: APIFixture) async throws -> Setup {
        var setup = Setup()
        let publisher = try await fixture.db.withConnection { tx in
            try await AccountStore.authenticate(AccessToken(value: fixture.tokens["publisher"]!), on: tx)!
        }
        let memberA = try await fixture.db.withConnection { tx in
            try await AccountStore.authenticate(AccessToken(value: fixture.tokens["memberA"]!), on: tx)!
        }
        try await fixture.db.withTransaction { tx in
            let now = Date()
            setup.programme = try await ProgrammeStore.create(
                .init(name: "2026年揭榜挂帅", year: 2026, applicationOpensAt: now, applicationClosesAt: now + 200 * 86_400),
                by: publisher, on: tx
            ).id
            setup.openProgramme = try await ProgrammeStore.create(
                .init(name: "2027年揭榜挂帅", year: 2027, applicationOpensAt: now, applicationClosesAt: now + 400 * 86_400),
                by: publisher, on: tx
            ).id
            let input = try JSONDecoder.api.decode(
                ChallengeDrafting.Input.self, from: JSONSerialization.data(withJSONObject: Bodies.challenge()))
            setup.draft = try await ChallengeDrafting.create(programmeID: setup.programme, input, by: publisher, on: tx).id
            setup.published = try await ChallengeDrafting.create(programmeID: setup.programme, input, by: publisher, on: tx).id
            _ = try await ChallengeDrafting.publish(id: setup.published, ifRevision: nil, by: publisher, on: tx)
            setup.demand = try await DemandFiling.file(
                .init(
                    unitID: fixture.unitA, industryChain: "有色冶金", need: "稀土永磁材料晶界扩散工艺", contactName: "李娜",
                    contactPhone: "0931-8123456", contactEmail: "li@example.cn"), by: memberA, on: tx
            ).id
            setup.result = try await tx.query(
                """
                INSERT INTO results (unit_id, region_code, title, summary, domain, industry_chain, maturity, ip_status,
                                     contact_name, contact_phone, contact_email)
                VALUES (\(fixture.unitB), '620300', '镍钴湿法冶金新工艺', '高压酸浸提取镍钴的连续化工艺，回收率提高5个百分点。', '有色冶金',
                        '有色冶金', 6, 'patent_granted', '赵工', '0935-8123456', 'zhao@example.cn')
                RETURNING id
                """
            ).first!.decode(Int.self)
            setup.talent = try await tx.query(
                """
                INSERT INTO talents (unit_id, region_code, name, title, fields, summary, contact_name, contact_phone, contact_email)
                VALUES (\(fixture.unitB), '620300', '孙立新', '研究员', ARRAY['湿法冶金'], '开发高镍三元正极材料前驱体连续共沉淀工艺。', '赵工',
                        '0935-8123456', 'zhao@example.cn')
                RETURNING id
                """
            ).first!.decode(Int.self)
        }
        try await setUpBids(fixture, publisher: publisher, &setup)
        try await setUpReview(fixture, publisher: publisher, &setup)
        try await setUpExperts(fixture, publisher: publisher, &setup)
        setup.scoring = try await setUpScoring(fixture, publisher: publisher)
        setup.projects = try await setUpProjects(fixture, publisher: publisher)
        return setup
    }

    /// A programme whose challenge has one formally passed bid (unit A with unit B), a pool of four
    /// experts (the fixture's among them), and a round whose first draw is applied.
    static func setUpReview(_ fixture: APIFixture, publisher: Actor, _ setup: inout Setup) async throws {
        let db = fixture.db
        let adminA = try await db.withConnection {
            try await AccountStore.authenticate(AccessToken(value: fixture.tokens["adminA"]!), on: $0)!
        }
        let adminB = try await db.withConnection {
            try await AccountStore.authenticate(AccessToken(value: fixture.tokens["adminB"]!), on: $0)!
        }
        let lanzhou = try await db.withConnection {
            try await AccountStore.authenticate(AccessToken(value: fixture.tokens["lanzhou"]!), on: $0)!
        }
        let input = try JSONDecoder.api.decode(
            ChallengeDrafting.Input.self, from: JSONSerialization.data(withJSONObject: Bodies.challenge()))
        let bureau = fixture.provinceBureau
        let ids = try await db.withTransaction { tx -> (Int, Int, Int, Int) in
            let now = Date()
            let programme = try await ProgrammeStore.create(
                .init(name: "评审批次", year: 2040, applicationOpensAt: now, applicationClosesAt: now + 200 * 86_400), by: publisher, on: tx
            ).id
            let challenge = try await ChallengeDrafting.create(programmeID: programme, input, by: publisher, on: tx).id
            _ = try await ChallengeDrafting.publish(id: challenge, ifRevision: nil, by: publisher, on: tx)
            let unreviewed = try await ChallengeDrafting.create(programmeID: programme, input, by: publisher, on: tx).id
            let bid = try await BidStore.create(challengeID: challenge, BidWorld.content(), by: adminA, on: tx).id
            _ = try await BidStore.invite(id: bid, unitID: fixture.unitB, by: adminA, on: tx)
            _ = try await BidStore.respond(id: bid, unitID: fixture.unitB, accept: true, part: BidWorld.part, by: adminB, on: tx)
            _ = try await BidStore.submit(id: bid, ifRevision: nil, by: adminA, on: tx)
            _ = try await BidReview.decide(bidID: bid, .recommend, opinion: "同意推荐", by: lanzhou, on: tx)
            _ = try await BidReview.formalCheck(
                bidID: bid, BidReview.formalCheckItems.map { .init(item: $0.code, passed: true) }, by: publisher, on: tx)
            var experts = [try await tx.query("SELECT id FROM users WHERE login = 'expert'").first!.decode(Int.self)]
            for index in 0..<3 {
                experts.append(
                    try await AccountStore.createUser(
                        .init(login: "pool\(index)", displayName: "池专家\(index)", role: .expert), passwordHash: nil, by: "test", on: tx))
            }
            for (index, expert) in experts.enumerated() {
                try await tx.execute(
                    """
                    INSERT INTO experts (user_id, bureau_id, organisation, region_code)
                    VALUES (\(expert), \(bureau), \("兰州大学第\(index)研究所"), '620100')
                    """)
            }
            let round = try await ReviewRoundStore.create(
                .init(
                    programmeID: programme, name: "第一轮评审", challengeIDs: [challenge], panelSize: 3, alternates: 1,
                    scoringDeadline: now + 30 * 86_400),
                by: publisher, on: tx
            ).id
            _ = try await ReviewRoundStore.requestDraw(roundID: round, dryRun: false, by: publisher, on: tx)
            _ = try await ReviewDrawing.run(roundID: round, number: 1, on: tx)
            let assignment = try await tx.query(
                "SELECT id FROM review_assignments WHERE round_id = \(round) AND expert_id = \(experts[0])"
            ).first!.decode(Int.self)
            return (programme, round, unreviewed, assignment)
        }
        (setup.reviewProgramme, setup.reviewRound, setup.unreviewedChallenge, setup.expertAssignment) = ids
    }

    static func setUpBids(_ fixture: APIFixture, publisher: Actor, _ setup: inout Setup) async throws {
        let db = fixture.db
        let adminA = try await db.withConnection {
            try await AccountStore.authenticate(AccessToken(value: fixture.tokens["adminA"]!), on: $0)!
        }
        let adminB = try await db.withConnection {
            try await AccountStore.authenticate(AccessToken(value: fixture.tokens["adminB"]!), on: $0)!
        }
        let lanzhou = try await db.withConnection {
            try await AccountStore.authenticate(AccessToken(value: fixture.tokens["lanzhou"]!), on: $0)!
        }
        let input = try JSONDecoder.api.decode(
            ChallengeDrafting.Input.self, from: JSONSerialization.data(withJSONObject: Bodies.challenge()))
        try await db.withTransaction { tx in
            var challenges: [Int] = []
            for index in 0..<6 {
                let now = Date()
                let programme = try await ProgrammeStore.create(
                    .init(name: "揭榜批次\(index)", year: 2030 + index, applicationOpensAt: now, applicationClosesAt: now + 200 * 86_400),
                    by: publisher, on: tx
                ).id
                let challenge = try await ChallengeDrafting.create(programmeID: programme, input, by: publisher, on: tx).id
                _ = try await ChallengeDrafting.publish(id: challenge, ifRevision: nil, by: publisher, on: tx)
                challenges.append(challenge)
            }
            func consortium(_ challenge: Int, accepted: Bool = true) async throws -> Int {
                let bid = try await BidStore.create(challengeID: challenge, BidWorld.content(), by: adminA, on: tx).id
                _ = try await BidStore.invite(id: bid, unitID: fixture.unitB, by: adminA, on: tx)
                if accepted {
                    _ = try await BidStore.respond(id: bid, unitID: fixture.unitB, accept: true, part: BidWorld.part, by: adminB, on: tx)
                }
                return bid
            }
            setup.submitted = try await consortium(challenges[0])
            _ = try await BidStore.submit(id: setup.submitted, ifRevision: nil, by: adminA, on: tx)
            setup.toRecommend = try await consortium(challenges[1])
            _ = try await BidStore.submit(id: setup.toRecommend, ifRevision: nil, by: adminA, on: tx)
            setup.recommended = try await consortium(challenges[2])
            _ = try await BidStore.submit(id: setup.recommended, ifRevision: nil, by: adminA, on: tx)
            _ = try await BidReview.decide(bidID: setup.recommended, .recommend, opinion: "同意推荐", by: lanzhou, on: tx)
            setup.draftBid = try await consortium(challenges[3], accepted: false)
            setup.attachment = try await BidAttachments.add(
                bidID: setup.draftBid, filename: "申报书.pdf", contentType: "application/pdf", bytes: Array("%PDF-1.7\n".utf8),
                by: adminA, on: tx
            ).id
            setup.toSubmit = try await consortium(challenges[4])
            setup.withdrawChallenge = challenges[5]
            for index in 0..<12 {
                setup.spareUnits.append(
                    try await UnitStore.register(
                        APIFixture.unit(name: "备用参与单位\(index)", code: "91620100MB" + String(format: "%07d", index), region: "620100"),
                        admin: nil, by: APIFixture.system, on: tx
                    ).id)
            }
            setup.pendingUnit = try await UnitStore.register(
                APIFixture.unit(name: "待核实企业", code: "91620100MC0000001", region: "620100"), admin: nil, by: nil, on: tx
            ).id
            try await tx.execute(
                """
                INSERT INTO unit_licences (unit_id, filename, size_bytes, sha256, data)
                VALUES (\(setup.pendingUnit), '营业执照.pdf', 9, \(SHA256Hex.digest(of: Array("%PDF-1.7\n".utf8))),
                        \(Data("%PDF-1.7\n".utf8)))
                """)
        }
    }

    static func setUpExperts(_ fixture: APIFixture, publisher: Actor, _ setup: inout Setup) async throws {
        setup.expert = try await fixture.db.query("SELECT id FROM users WHERE login = 'expert'").first!.decode(Int.self)
        try await fixture.db.execute(
            """
            INSERT INTO experts (user_id, bureau_id, organisation, region_code)
            VALUES (\(setup.expert), \(fixture.provinceBureau), '兰州大学', '620100')
            ON CONFLICT (user_id) DO NOTHING
            """)
        setup.retiree = try await fixture.db.withTransaction { tx in
            try await ExpertStore.create(
                ExpertInput(login: "retiree", displayName: "退休专家", organisation: "兰州大学", regionCode: "620100"),
                by: publisher, on: tx
            ).id
        }
    }

    private static func probes(_ fixture: APIFixture, _ setup: Setup) -> [AccessProbe] {
        let db = fixture.db
        let signedIn = Set(APIFixture.matrixPeople)
        let everyone = signedIn.union(["anonymous"])
        @Sendable func json(_ object: Any) -> Data { try! JSONSerialization.data(withJSONObject: object) }
        func get(_ operation: String, _ uri: String, _ allowed: Set<String>) -> AccessProbe {
            AccessProbe(operation: operation, allowed: allowed) { _, _ in (.get, uri, nil, [:]) }
        }
        @Sendable func revision(_ table: String, _ id: Int) async throws -> HTTPFields {
            let revision = try await db.query("SELECT revision FROM \(unsafeRaw: table) WHERE id = \(id)").first!.decode(Int.self)
            return [.ifMatch: "\"\(revision)\""]
        }
        // Those who cannot see unit A's record, or the pending unit's (in Lanzhou, its admin not among them).
        let strangersOfA: Set<String> = ["adminB", "memberB", "adminC", "memberC", "otherPublisher", "jinchang"]
        let strangersOfPending = strangersOfA.union(["adminA", "memberA"])
        @Sendable func hiding(_ probe: AccessProbe, from people: Set<String>) -> AccessProbe {
            var probe = probe
            probe.hidden = people
            return probe
        }
        // The people of unit C see no bid of units A and B; unit B's people, a partner, see the bid but do not manage it.
        let outsideConsortium: Set<String> = ["adminC", "memberC"]
        /// Everyone signed in but `allowed`: every role reads some bids, so a bid one may not read is not there.
        func bidReaders(_ allowed: Set<String>) -> Set<String> { signedIn.subtracting(allowed) }
        return [
            get("GET /healthz", "/healthz", everyone),
            get("GET /readyz", "/readyz", everyone),
            get("GET /metrics", "/metrics", everyone),
            get("GET /openapi.yaml", "/openapi.yaml", everyone),
            get("GET /v1/board/challenges", "/v1/board/challenges", everyone),
            get("GET /v1/board/challenges/{id}", "/v1/board/challenges/\(setup.published)", everyone),
            get("GET /v1/programmes", "/v1/programmes", everyone),
            get("GET /v1/programmes/{id}", "/v1/programmes/\(setup.programme)", everyone),
            get("GET /v1/me", "/v1/me", signedIn),
            get("GET /v1/notifications", "/v1/notifications?unread=true", signedIn),
            get("GET /v1/notifications/unread-count", "/v1/notifications/unread-count", signedIn),
            get("GET /v1/notifications/mutes", "/v1/notifications/mutes", signedIn),
            AccessProbe(operation: "POST /v1/notifications/{id}/read", allowed: signedIn) { person, serial in
                // Each person reads a notification of their own; anonymous names someone's.
                let login = person == "anonymous" ? "admina" : person.lowercased()
                let id = try await db.query(
                    """
                    INSERT INTO notifications (user_id, occasion, subject, title, body)
                    SELECT id, 'bid.invited', \("probe:\(serial)"), '联合体邀请', '邀请您单位加入联合体' FROM users WHERE login = \(login)
                    RETURNING id
                    """
                ).first!.decode(Int.self)
                return (.post, "/v1/notifications/\(id)/read", nil, [:])
            },
            AccessProbe(operation: "POST /v1/notifications/{id}/read", allowed: ["adminA"], hidden: signedIn.subtracting(["adminA"])) {
                _, serial in
                // Everyone names adminA's notification: only adminA has it.
                let id = try await db.query(
                    """
                    INSERT INTO notifications (user_id, occasion, subject, title, body)
                    SELECT id, 'bid.invited', \("another:\(serial)"), '联合体邀请', '邀请您单位加入联合体' FROM users WHERE login = 'admina'
                    RETURNING id
                    """
                ).first!.decode(Int.self)
                return (.post, "/v1/notifications/\(id)/read", nil, [:])
            },
            AccessProbe(operation: "PUT /v1/notifications/mutes/{occasion}", allowed: signedIn) { _, _ in
                (.put, "/v1/notifications/mutes/application_deadline.t7", nil, [:])
            },
            AccessProbe(operation: "DELETE /v1/notifications/mutes/{occasion}", allowed: signedIn) { _, _ in
                (.delete, "/v1/notifications/mutes/application_deadline.t7", nil, [:])
            },
            AccessProbe(operation: "PUT /v1/me/email", allowed: signedIn) { _, serial in
                (.put, "/v1/me/email", json(["email": "probe\(serial)@example.com"]), [:])
            },
            AccessProbe(operation: "DELETE /v1/me/email", allowed: signedIn) { _, _ in (.delete, "/v1/me/email", nil, [:]) },
            AccessProbe(operation: "POST /v1/me/tokens", allowed: signedIn) { _, serial in
                (.post, "/v1/me/tokens", json(["label": "probe \(serial)", "scopes": ["read"], "expiresInDays": 1]), [:])
            },
            get("GET /v1/me/tokens", "/v1/me/tokens", signedIn),
            AccessProbe(operation: "DELETE /v1/me/tokens/{id}", allowed: ["adminA"], hidden: signedIn.subtracting(["adminA"])) {
                _, serial in
                // Everyone names an API token of adminA's.
                let id = try await db.query(
                    """
                    INSERT INTO access_tokens (user_id, token_hash, kind, label, scopes, expires_at)
                    SELECT id, sha256(convert_to(\("probe token \(serial)"), 'UTF8')), 'api', 'probe', ARRAY['read'], now() + interval '1 day'
                    FROM users WHERE login = 'admina'
                    RETURNING id
                    """
                ).first!.decode(Int.self)
                return (.delete, "/v1/me/tokens/\(id)", nil, [:])
            },
            get("GET /v1/email-messages", "/v1/email-messages?status=failed", ["admin"]),
            AccessProbe(operation: "POST /v1/sessions", allowed: everyone) { _, _ in
                (.post, "/v1/sessions", json(["login": "expert", "password": "correct horse battery"]), [:])
            },
            AccessProbe(operation: "DELETE /v1/sessions/current", allowed: signedIn) { person, _ in
                guard person != "anonymous" else { return (.delete, "/v1/sessions/current", nil, [:]) }
                let token = try await db.withConnection { conn in
                    let user = try await conn.query("SELECT id FROM users WHERE login = \(person.lowercased())").first!.decode(Int.self)
                    return try await AccountStore.issueToken(userID: user, kind: "session", label: nil, lifetime: .seconds(60), on: conn)
                }
                return (.delete, "/v1/sessions/current", nil, [.authorization: "Bearer \(token.token.value)"])
            },
            AccessProbe(operation: "POST /v1/bureaus", allowed: ["admin"]) { person, serial in
                (.post, "/v1/bureaus", json(["name": "测试局\(serial)", "level": "municipal", "regionCode": "620500"]), [:])
            },
            AccessProbe(operation: "POST /v1/users", allowed: ["admin", "adminA"]) { _, serial in
                let body: [String: Any] = [
                    "login": "invited\(serial)", "displayName": "受邀成员", "password": "a long enough password",
                    "role": "unit_member", "unitID": fixture.unitA,
                ]
                return (.post, "/v1/users", json(body), [:])
            },
            AccessProbe(operation: "POST /v1/units", allowed: ["anonymous", "admin"]) { _, serial in
                let code = try CreditCode.completing("91620100MA" + String(format: "%07d", serial)).value
                let unit: [String: Any] = [
                    "kind": "university", "name": "测试大学\(serial)", "creditCode": code, "regionCode": "620100",
                    "contactName": "赵敏", "contactPhone": "0931-1234567", "contactEmail": "zhao@example.cn",
                ]
                return (.post, "/v1/units", json(["unit": unit]), [:])
            },
            get("GET /v1/units/{id}", "/v1/units/\(fixture.unitA)", ["admin", "adminA", "memberA", "lanzhou", "publisher"]),
            get("GET /v1/units/pending", "/v1/units/pending", ["admin", "lanzhou", "jinchang"]),
            AccessProbe(operation: "PUT /v1/units/{id}/licence", allowed: ["admin", "lanzhou"], hidden: strangersOfPending) { _, _ in
                (
                    .put, "/v1/units/\(setup.pendingUnit)/licence?filename=licence.pdf", Data("%PDF-1.7\n".utf8),
                    [.contentType: "application/pdf"]
                )
            },
            hiding(
                get("GET /v1/units/{id}/licence", "/v1/units/\(setup.pendingUnit)/licence", ["admin", "lanzhou"]), from: strangersOfPending),
            AccessProbe(operation: "POST /v1/units/{id}/verification", allowed: ["admin", "lanzhou"], hidden: strangersOfPending) { _, _ in
                (.post, "/v1/units/\(setup.pendingUnit)/verification", json(["decision": "rejected", "note": "执照模糊，请重新上传"]), [:])
            },
            AccessProbe(operation: "PUT /v1/units/{id}", allowed: ["admin", "adminA", "lanzhou"], hidden: strangersOfA) { _, serial in
                let unit: [String: Any] = [
                    "kind": "enterprise", "name": "兰州稀土新材料有限公司", "creditCode": try CreditCode.completing("91620100MA7ABCDE1").value,
                    "regionCode": "620100", "natures": ["private"], "contactName": "张伟\(serial)",
                    "contactPhone": "0931-8000000", "contactEmail": "zhang@example.cn",
                ]
                return (.put, "/v1/units/\(fixture.unitA)", json(unit), try await revision("units", fixture.unitA))
            },
            AccessProbe(operation: "POST /v1/programmes", allowed: ["publisher", "otherPublisher"]) { _, serial in
                (.post, "/v1/programmes", json(Bodies.programme(name: "批次\(serial)")), [:])
            },
            AccessProbe(operation: "PUT /v1/programmes/{id}", allowed: ["publisher"]) { _, serial in
                (
                    .put, "/v1/programmes/\(setup.openProgramme)", json(Bodies.programme(name: "批次更名\(serial)")),
                    try await revision("programmes", setup.openProgramme)
                )
            },
            AccessProbe(operation: "POST /v1/programmes/{id}/challenges", allowed: ["publisher"]) { _, _ in
                (.post, "/v1/programmes/\(setup.programme)/challenges", json(Bodies.challenge()), [:])
            },
            AccessProbe(operation: "POST /v1/demands", allowed: ["memberA", "adminA", "lanzhou", "publisher"]) { _, _ in
                (.post, "/v1/demands", json(Bodies.demand(unitID: fixture.unitA)), [:])
            },
            get("GET /v1/demands", "/v1/demands", signedIn.subtracting(["expert", "otherExpert"])),
            get("GET /v1/demands/{id}", "/v1/demands/\(setup.demand)", ["admin", "adminA", "memberA", "lanzhou", "publisher"]),
            AccessProbe(operation: "POST /v1/results", allowed: ["adminB", "memberB", "jinchang", "publisher"]) { _, _ in
                let body: [String: Any] = [
                    "unitID": fixture.unitB, "title": "镍钴湿法冶金新工艺", "summary": "高压酸浸提取镍钴的连续化工艺，回收率提高5个百分点。",
                    "domain": "有色冶金", "industryChain": "有色冶金", "keywords": ["镍钴", "湿法冶金"], "maturity": 6,
                    "ipStatus": "patent_granted", "contactName": "赵工", "contactPhone": "0935-8123456", "contactEmail": "zhao@example.cn",
                ]
                return (.post, "/v1/results", json(body), [:])
            },
            AccessProbe(operation: "POST /v1/results/import", allowed: ["adminB", "memberB", "jinchang", "publisher"]) { _, serial in
                // Unit B is an institute in Jinchang: enterprises' people, other regions and other provinces get 403.
                let code = try await db.query("SELECT credit_code FROM units WHERE id = \(fixture.unitB)").first!.decode(String.self)
                let csv = """
                    单位名称,统一社会信用代码,成果名称,成果简介,技术领域,所属产业链,技术成熟度,知识产权,联系人,联系电话,电子邮箱
                    金川镍钴研究院,\(code),镍钴湿法冶金新工艺\(serial),高压酸浸提取镍钴的连续化工艺，回收率提高5个百分点。,有色冶金,有色冶金,6,已授权专利,赵工,0935-8123456,zhao@example.cn

                    """
                return (.post, "/v1/results/import", Data(csv.utf8), [.contentType: "text/csv"])
            },
            get("GET /v1/results", "/v1/results", signedIn.subtracting(["expert", "otherExpert"])),
            get("GET /v1/results/{id}", "/v1/results/\(setup.result)", ["admin", "adminB", "memberB", "jinchang", "publisher"]),
            get(
                "GET /v1/results/{id}/matches", "/v1/results/\(setup.result)/matches",
                ["admin", "adminB", "memberB", "jinchang", "publisher"]),
            AccessProbe(operation: "POST /v1/talents", allowed: ["adminB", "memberB", "jinchang", "publisher"]) { _, _ in
                let body: [String: Any] = [
                    "unitID": fixture.unitB, "name": "孙立新", "fields": ["湿法冶金"], "summary": "开发高镍三元正极材料前驱体连续共沉淀工艺。",
                    "contactName": "赵工", "contactPhone": "0935-8123456", "contactEmail": "zhao@example.cn",
                ]
                return (.post, "/v1/talents", json(body), [:])
            },
            get("GET /v1/talents", "/v1/talents", signedIn.subtracting(["expert", "otherExpert"])),
            get("GET /v1/talents/{id}", "/v1/talents/\(setup.talent)", ["admin", "adminB", "memberB", "jinchang", "publisher"]),
            get(
                "GET /v1/talents/{id}/matches", "/v1/talents/\(setup.talent)/matches",
                ["admin", "adminB", "memberB", "jinchang", "publisher"]),
            AccessProbe(operation: "PUT /v1/talents/{id}", allowed: ["adminB", "memberB", "jinchang", "publisher"]) { _, serial in
                let body: [String: Any] = [
                    "unitID": fixture.unitB, "name": "孙立新", "fields": ["湿法冶金", "电池材料\(serial)"],
                    "summary": "开发高镍三元正极材料前驱体连续共沉淀工艺。", "availability": "limited", "contactName": "赵工",
                    "contactPhone": "0935-8123456", "contactEmail": "zhao@example.cn",
                ]
                return (.put, "/v1/talents/\(setup.talent)", json(body), try await revision("talents", setup.talent))
            },
            get(
                "GET /v1/demands/{id}/matches", "/v1/demands/\(setup.demand)/matches",
                ["admin", "adminA", "memberA", "lanzhou", "publisher"]),
            AccessProbe(operation: "POST /v1/demands/{id}/challenge", allowed: ["publisher"]) { _, _ in
                var body = Bodies.challenge().filter {
                    ["category", "indicators", "applicationDeadline", "completionDeadline", "fundingCeilingFen"].contains($0.key)
                }
                body["programmeID"] = setup.programme
                return (.post, "/v1/demands/\(setup.demand)/challenge", json(body), [:])
            },
            AccessProbe(operation: "PUT /v1/demands/{id}", allowed: ["adminA", "memberA", "lanzhou", "publisher"]) { _, _ in
                let body = [
                    "industryChain": "新材料", "need": "稀土永磁材料的低成本制备工艺（修订）", "contactName": "王工",
                    "contactPhone": "0931-1234567", "contactEmail": "wang@example.com",
                ]
                return (.put, "/v1/demands/\(setup.demand)", json(body), try await revision("demands", setup.demand))
            },
            AccessProbe(operation: "POST /v1/demands/{id}/confirm", allowed: ["adminA", "memberA", "lanzhou", "publisher"]) { _, _ in
                (.post, "/v1/demands/\(setup.demand)/confirm", nil, [:])
            },
            AccessProbe(operation: "POST /v1/demands/{id}/close", allowed: ["adminA", "memberA", "lanzhou", "publisher"]) { _, _ in
                // Closing is final: each call closes a demand of its own.
                let demand = try await db.query(
                    """
                    INSERT INTO demands (unit_id, region_code, industry_chain, need, contact_name, contact_phone, contact_email)
                    VALUES (\(fixture.unitA), '620100', '新材料', '稀土永磁材料的低成本制备工艺', '王工', '0931-1234567', 'wang@example.com')
                    RETURNING id
                    """
                ).first!.decode(Int.self)
                return (.post, "/v1/demands/\(demand)/close", nil, [:])
            },
            get("GET /v1/challenges/{id}", "/v1/challenges/\(setup.draft)", ["publisher", "admin"]),
            AccessProbe(operation: "PUT /v1/challenges/{id}", allowed: ["publisher"]) { _, serial in
                var body = Bodies.challenge()
                body["title"] = "稀土永磁材料制备技术草稿\(serial)"
                return (.put, "/v1/challenges/\(setup.draft)", json(body), try await revision("challenges", setup.draft))
            },
            AccessProbe(operation: "POST /v1/challenges/{id}/publish", allowed: ["publisher"]) { _, _ in
                let id = try await db.query(
                    """
                    INSERT INTO challenges (programme_id, title, task, content, indicators, category, domain, industry_chain,
                                            application_deadline, completion_deadline, funding_ceiling_fen)
                    SELECT programme_id, title, task, content, indicators, category, domain, industry_chain,
                           application_deadline, completion_deadline, funding_ceiling_fen
                    FROM challenges WHERE id = \(setup.draft)
                    RETURNING id
                    """
                ).first!.decode(Int.self)
                return (.post, "/v1/challenges/\(id)/publish", nil, [:])
            },
            AccessProbe(operation: "POST /v1/challenges/{id}/amendments", allowed: ["publisher"]) { _, serial in
                var body = Bodies.challenge()
                body["title"] = "高性能稀土永磁材料关键制备技术（修订\(serial)）"
                return (.post, "/v1/challenges/\(setup.published)/amendments", json(["reason": "根据征集意见修订标题", "challenge": body]), [:])
            },
            AccessProbe(
                operation: "POST /v1/challenges/{id}/bids", allowed: ["adminA", "memberA", "adminB", "memberB", "adminC", "memberC"]
            ) { _, _ in
                (.post, "/v1/challenges/\(setup.published)/bids", json(Self.bidContent), [:])
            },
            get("GET /v1/bids", "/v1/bids", signedIn.subtracting(["expert", "otherExpert"])),
            hiding(
                get("GET /v1/bids/{id}", "/v1/bids/\(setup.submitted)", ["admin", "adminA", "memberA", "adminB", "memberB", "lanzhou"]),
                from: bidReaders(["admin", "adminA", "memberA", "adminB", "memberB", "lanzhou"])),
            hiding(
                get(
                    "GET /v1/bids/{id}/submissions", "/v1/bids/\(setup.submitted)/submissions",
                    ["admin", "adminA", "memberA", "adminB", "memberB", "lanzhou"]),
                from: bidReaders(["admin", "adminA", "memberA", "adminB", "memberB", "lanzhou"])),
            AccessProbe(operation: "PUT /v1/bids/{id}", allowed: ["adminA", "memberA"], hidden: outsideConsortium) { _, _ in
                (.put, "/v1/bids/\(setup.draftBid)", json(Self.bidContent), try await revision("bids", setup.draftBid))
            },
            AccessProbe(operation: "POST /v1/bids/{id}/members", allowed: ["adminA", "memberA"], hidden: outsideConsortium) { _, serial in
                (.post, "/v1/bids/\(setup.draftBid)/members", json(["unitID": setup.spareUnits[serial % setup.spareUnits.count]]), [:])
            },
            AccessProbe(operation: "POST /v1/bids/{id}/members/{unitID}/response", allowed: ["adminB"], hidden: ["adminC"]) { _, _ in
                let answer: [String: Any] = [
                    "accept": true,
                    "part": ["partRole": "材料测试", "tasks": "负责磁性能测试", "budgetShareFen": 1_000_000, "contribution": "检测平台"],
                ]
                return (.post, "/v1/bids/\(setup.draftBid)/members/\(fixture.unitB)/response", json(answer), [:])
            },
            AccessProbe(operation: "POST /v1/bids/{id}/submit", allowed: ["adminA", "memberA"], hidden: outsideConsortium) { _, _ in
                (.post, "/v1/bids/\(setup.toSubmit)/submit", nil, [:])
            },
            AccessProbe(operation: "POST /v1/bids/{id}/withdraw", allowed: ["adminA", "memberA"]) { _, _ in
                let bid = try await db.query(
                    """
                    INSERT INTO bids (programme_id, challenge_id, lead_unit_id, region_code)
                    SELECT programme_id, id, \(fixture.unitA), '620100' FROM challenges WHERE id = \(setup.withdrawChallenge)
                    RETURNING id
                    """
                ).first!.decode(Int.self)
                try await db.execute(
                    """
                    INSERT INTO bid_members (bid_id, unit_id, programme_id, role, status, exclusive)
                    SELECT id, lead_unit_id, programme_id, 'lead', 'accepted', true FROM bids WHERE id = \(bid)
                    """)
                return (.post, "/v1/bids/\(bid)/withdraw", nil, [:])
            },
            AccessProbe(operation: "POST /v1/bids/{id}/recommendation", allowed: ["lanzhou"]) { _, _ in
                (.post, "/v1/bids/\(setup.toRecommend)/recommendation", json(["decision": "recommend", "opinion": "同意推荐"]), [:])
            },
            AccessProbe(operation: "POST /v1/bids/{id}/formal-check", allowed: ["publisher"]) { _, _ in
                let items = BidReview.formalCheckItems.map { ["item": $0.code, "passed": true] }
                return (.post, "/v1/bids/\(setup.recommended)/formal-check", json(["items": items]), [:])
            },
            hiding(
                get(
                    "GET /v1/bids/{id}/attachments", "/v1/bids/\(setup.draftBid)/attachments",
                    ["admin", "adminA", "memberA", "adminB", "memberB"]),
                from: bidReaders(["admin", "adminA", "memberA", "adminB", "memberB"])),
            AccessProbe(operation: "POST /v1/bids/{id}/attachments", allowed: ["adminA", "memberA"], hidden: outsideConsortium) { _, _ in
                (.post, "/v1/bids/\(setup.draftBid)/attachments?filename=a.pdf", Data("%PDF-1.4\n".utf8), [.contentType: "application/pdf"])
            },
            hiding(
                get(
                    "GET /v1/bids/{id}/attachments/{attachmentID}", "/v1/bids/\(setup.draftBid)/attachments/\(setup.attachment)",
                    ["admin", "adminA", "memberA", "adminB", "memberB"]),
                from: bidReaders(["admin", "adminA", "memberA", "adminB", "memberB"])),
            AccessProbe(operation: "PUT /v1/programmes/{id}/quotas/{regionCode}", allowed: ["publisher"]) { _, _ in
                (.put, "/v1/programmes/\(setup.programme)/quotas/620100", json(["quota": 5]), [:])
            },
            get(
                "GET /v1/programmes/{id}/bids/summary", "/v1/programmes/\(setup.programme)/bids/summary",
                ["admin", "publisher", "lanzhou", "jinchang"]),
            AccessProbe(operation: "POST /v1/review-rounds", allowed: ["publisher"]) { _, _ in
                let body: [String: Any] = [
                    "programmeID": setup.reviewProgramme, "name": "补充评审", "challengeIDs": [setup.unreviewedChallenge],
                    "scoringDeadline": "2099-01-01T00:00:00Z",
                ]
                return (.post, "/v1/review-rounds", json(body), [:])
            },
            get("GET /v1/review-rounds", "/v1/review-rounds?programmeID=\(setup.reviewProgramme)", ["publisher"]),
            get("GET /v1/review-rounds/{id}", "/v1/review-rounds/\(setup.reviewRound)", ["publisher"]),
            get("GET /v1/review-rounds/{id}/draws/{number}", "/v1/review-rounds/\(setup.reviewRound)/draws/1", ["publisher"]),
            get("GET /v1/review-rounds/{id}/seats", "/v1/review-rounds/\(setup.reviewRound)/seats", ["publisher"]),
            AccessProbe(operation: "POST /v1/review-rounds/{id}/draws", allowed: ["publisher"]) { _, _ in
                (.post, "/v1/review-rounds/\(setup.reviewRound)/draws", json(["dryRun": true]), [:])
            },
            get("GET /v1/review-rounds/{id}/draws", "/v1/review-rounds/\(setup.reviewRound)/draws", ["publisher"]),
            get("GET /v1/expert/assignments", "/v1/expert/assignments", ["expert", "otherExpert"]),
            AccessProbe(operation: "POST /v1/expert/assignments/{id}/recusal", allowed: ["expert"]) { _, _ in
                (.post, "/v1/expert/assignments/\(setup.expertAssignment)/recusal", json(["reason": "曾与牵头单位合作"]), [:])
            },
        ] + expertProbes(fixture, setup) + scoringProbes(fixture, setup.scoring)
            + projectProbes(fixture, setup.projects) + webhookProbes(fixture)
            // Last: it changes each person's password, which the probes above sign in with.
            + [
                AccessProbe(operation: "PUT /v1/me/password", allowed: signedIn) { _, serial in
                    (
                        .put, "/v1/me/password",
                        json(["currentPassword": "correct horse battery", "newPassword": "a fresh phrase \(serial)"]), [:]
                    )
                }
            ]
    }

    /// The expert pool: its publisher keeps it, the expert reads and declares for themself, no one else sees it.
    private static func expertProbes(_ fixture: APIFixture, _ setup: Setup) -> [AccessProbe] {
        let db = fixture.db
        let publishers: Set<String> = ["publisher", "otherPublisher"]
        let poolAndExpert: Set<String> = ["publisher", "expert"]
        @Sendable func json(_ object: Any) -> Data { try! JSONSerialization.data(withJSONObject: object) }
        func get(_ operation: String, _ uri: String, _ allowed: Set<String>) -> AccessProbe {
            AccessProbe(operation: operation, allowed: allowed) { _, _ in (.get, uri, nil, [:]) }
        }
        return [
            get("GET /v1/experts", "/v1/experts?q=%E5%85%B0%E5%B7%9E", publishers),
            AccessProbe(operation: "POST /v1/experts", allowed: publishers) { _, serial in
                let body: [String: Any] = [
                    "login": "probe.expert\(serial)", "displayName": "专家\(serial)", "organisation": "兰州大学", "regionCode": "620100",
                ]
                return (.post, "/v1/experts", json(body), [:])
            },
            AccessProbe(operation: "POST /v1/experts/import", allowed: publishers) { _, serial in
                let csv = "姓名,登录名,工作单位,所在地区\n专家\(serial),import.expert\(serial),兰州大学,620100\n"
                return (.post, "/v1/experts/import", Data(csv.utf8), [.contentType: "text/csv"])
            },
            get("GET /v1/experts/{id}", "/v1/experts/\(setup.expert)", poolAndExpert),
            AccessProbe(operation: "PATCH /v1/experts/{id}", allowed: poolAndExpert) { _, _ in
                let revision = try await db.query("SELECT revision FROM experts WHERE user_id = \(setup.expert)").first!.decode(Int.self)
                return (.patch, "/v1/experts/\(setup.expert)", json(["available": true]), [.ifMatch: "\"\(revision)\""])
            },
            AccessProbe(operation: "POST /v1/experts/{id}/retire", allowed: ["publisher"]) { _, _ in
                (.post, "/v1/experts/\(setup.retiree)/retire", nil, [:])
            },
            AccessProbe(operation: "POST /v1/experts/{id}/reinstate", allowed: ["publisher"]) { _, _ in
                (.post, "/v1/experts/\(setup.retiree)/reinstate", nil, [:])
            },
            get("GET /v1/experts/{id}/ties", "/v1/experts/\(setup.expert)/ties", poolAndExpert),
            AccessProbe(operation: "PUT /v1/experts/{id}/ties/{unitID}", allowed: poolAndExpert) { _, _ in
                (.put, "/v1/experts/\(setup.expert)/ties/\(setup.spareUnits[0])", json(["reason": "曾在该单位任职"]), [:])
            },
            AccessProbe(operation: "DELETE /v1/experts/{id}/ties/{unitID}", allowed: ["publisher"]) { _, _ in
                try await db.execute(
                    """
                    INSERT INTO expert_ties (expert_id, unit_id, reason) VALUES (\(setup.expert), \(fixture.unitB), '联合项目')
                    ON CONFLICT DO NOTHING
                    """)
                return (.delete, "/v1/experts/\(setup.expert)/ties/\(fixture.unitB)", nil, [:])
            },
            get("GET /v1/me/expert-profile", "/v1/me/expert-profile", ["expert", "otherExpert"]),
        ]
    }

    static var bidContent: [String: Any] {
        [
            "technicalRoute": "采用晶界扩散技术路线", "rdFoundation": "省级工程技术研究中心", "indicatorAnswers": ["54 MGOe", "21 kOe"],
            "totalInvestmentFen": 1_000_000_000, "selfFundingFen": 500_000_000, "requestedFundingFen": 100_000_000,
            "team": [["name": "王强", "title": "正高级工程师", "unit": "兰州稀土", "role": "负责人"]], "completionCommitment": true,
        ]
    }
}

extension JSONDecoder {
    /// Decodes as the API does (ISO 8601 dates).
    static var api: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

// MARK: - Scoring and award (issue 20)

extension AccessMatrixTests {
    /// A programme whose units may bid more than once, with formally passed bids (by SQL), the fixture's
    /// expert in the pool, and rounds: one open for scoring, one past its deadline to close, one closed
    /// whose challenges are at each stage of an award.
    struct ScoringSetup: Sendable {
        var programme = 0
        /// The fixture expert's seats in the open round: one to read and save, one with a full draft to submit.
        var seat = 0
        var seatToSubmit = 0
        var roundToClose = 0
        var closedRound = 0
        /// Challenges of the closed round: one to pick on, one with a pick to publish, one past its period
        /// to finalise, one in its period to object to.
        var pickChallenge = 0
        var pickBid = 0
        var publishChallenge = 0
        var finaliseChallenge = 0
        var objectChallenge = 0
    }

    static func setUpScoring(_ fixture: APIFixture, publisher: Actor) async throws -> ScoringSetup {
        var setup = ScoringSetup()
        let input = try JSONDecoder.api.decode(
            ChallengeDrafting.Input.self, from: JSONSerialization.data(withJSONObject: Bodies.challenge()))
        try await fixture.db.withTransaction { tx in
            let now = Date()
            var programme = ProgrammeStore.Input(
                name: "2028年揭榜挂帅", year: 2028, applicationOpensAt: now, applicationClosesAt: now + 200 * 86_400)
            programme.oneLiveBidPerUnit = false
            setup.programme = try await ProgrammeStore.create(programme, by: publisher, on: tx).id
            var challenges: [Int] = []
            for _ in 0..<6 {
                let id = try await ChallengeDrafting.create(programmeID: setup.programme, input, by: publisher, on: tx).id
                _ = try await ChallengeDrafting.publish(id: id, ifRevision: nil, by: publisher, on: tx)
                challenges.append(id)
            }
            func passedBid(_ challenge: Int) async throws -> Int {
                let bid = try await tx.query(
                    """
                    INSERT INTO bids (programme_id, challenge_id, lead_unit_id, region_code)
                    VALUES (\(setup.programme), \(challenge), \(fixture.unitA), '620100') RETURNING id
                    """
                ).first!.decode(Int.self)
                try await tx.execute(
                    "INSERT INTO bid_members (bid_id, unit_id, programme_id, role, status, exclusive) VALUES (\(bid), \(fixture.unitA), \(setup.programme), 'lead', 'accepted', false)"
                )
                try await tx.execute("UPDATE bids SET status = 'recommended', version = 1, submitted_at = now() WHERE id = \(bid)")
                try await tx.execute(
                    "INSERT INTO bid_formal_checks (bid_id, item, passed) SELECT \(bid), item, true FROM unnest(\(BidReview.formalCheckItems.map(\.code))) AS item"
                )
                try await tx.execute("UPDATE bids SET status = 'formal_passed' WHERE id = \(bid)")
                return bid
            }
            func round(_ name: String, deadline: Date, challenges: [Int]) async throws -> Int {
                let id = try await tx.query(
                    "INSERT INTO review_rounds (programme_id, name, panel_size, scoring_deadline) VALUES (\(setup.programme), \(name), 3, \(deadline)) RETURNING id"
                ).first!.decode(Int.self)
                for challenge in challenges {
                    try await tx.execute("INSERT INTO review_round_challenges (round_id, challenge_id) VALUES (\(id), \(challenge))")
                }
                try await tx.execute(
                    """
                    INSERT INTO review_draws (round_id, number, dry_run, status, seed, seed_sha256, finished_at)
                    VALUES (\(id), 1, false, 'applied', 7, \(SHA256Hex.digest(of: Array("7".utf8))), now())
                    """)
                return id
            }
            let expert = try await tx.query("SELECT id FROM users WHERE login = 'expert'").first!.decode(Int.self)
            try await tx.execute(
                "INSERT INTO experts (user_id, bureau_id, organisation, region_code) VALUES (\(expert), \(fixture.provinceBureau), '兰州大学', '620000') ON CONFLICT (user_id) DO NOTHING"
            )
            let scored = [try await passedBid(challenges[0]), try await passedBid(challenges[1])]
            let open = try await round("开放评分轮次", deadline: now + 86_400, challenges: [challenges[0], challenges[1]])
            var seats: [Int] = []
            for bid in scored {
                seats.append(
                    try await tx.query(
                        """
                        INSERT INTO review_assignments (round_id, draw_number, bid_id, expert_id, organisation_key, role)
                        SELECT \(open), 1, \(bid), user_id, organisation_key, 'panel' FROM experts WHERE user_id = \(expert) RETURNING id
                        """
                    ).first!.decode(Int.self))
            }
            (setup.seat, setup.seatToSubmit) = (seats[0], seats[1])
            setup.roundToClose = try await round("待结束轮次", deadline: now - 1, challenges: [])
            setup.closedRound = try await round("已结束轮次", deadline: now - 1, challenges: Array(challenges[2...5]))
            try await tx.execute(
                "UPDATE review_rounds SET status = 'assigned' WHERE id IN (\(open), \(setup.roundToClose), \(setup.closedRound))")
            try await tx.execute(
                """
                INSERT INTO review_scores (assignment_id, round_id, programme_id) VALUES (\(setup.seatToSubmit), \(open), \(setup.programme))
                """)
            try await tx.execute(
                """
                INSERT INTO review_score_items (assignment_id, criterion_key, score)
                SELECT \(setup.seatToSubmit), key, 60 FROM rubric_criteria WHERE programme_id = \(setup.programme)
                """)
            try await tx.execute("UPDATE review_rounds SET status = 'closed', closed_at = now() WHERE id = \(setup.closedRound)")
            setup.pickChallenge = challenges[2]
            setup.pickBid = try await passedBid(challenges[2])
            setup.publishChallenge = challenges[3]
            setup.finaliseChallenge = challenges[4]
            setup.objectChallenge = challenges[5]
            for challenge in challenges[3...5] {
                let bid = try await passedBid(challenge)
                try await tx.execute(
                    "INSERT INTO awards (challenge_id, bid_id, round_id) VALUES (\(challenge), \(bid), \(setup.closedRound))")
            }
            for challenge in challenges[4...5] {
                try await tx.execute(
                    """
                    INSERT INTO award_notices (challenge_id, round_id, first_day, last_day, objections_close_at)
                    VALUES (\(challenge), \(setup.closedRound), current_date, current_date, now())
                    """)
            }
        }
        try await fixture.db.withTransaction { tx in
            try await tx.execute("SET LOCAL session_replication_role = replica")
            try await tx.execute(
                "UPDATE award_notices SET objections_close_at = now() - interval '1 second' WHERE challenge_id = \(setup.finaliseChallenge)"
            )
        }
        return setup
    }

    private static func scoringProbes(_ fixture: APIFixture, _ setup: ScoringSetup) -> [AccessProbe] {
        let db = fixture.db
        let signedIn = Set(APIFixture.matrixPeople)
        let everyone = signedIn.union(["anonymous"])
        @Sendable func json(_ object: Any) -> Data { try! JSONSerialization.data(withJSONObject: object) }
        func call(_ method: HTTPRequest.Method, _ operation: String, _ uri: String, _ allowed: Set<String>, body: Data? = nil)
            -> AccessProbe
        {
            AccessProbe(operation: operation, allowed: allowed) { _, _ in (method, uri, body, [:]) }
        }
        let rubric: [String: Any] = [
            "criteria": [
                ["key": "rd_foundation", "name": "研发基础条件", "weight": 30, "minScore": 0, "maxScore": 100],
                ["key": "innovation", "name": "创新能力", "weight": 70, "minScore": 0, "maxScore": 100],
            ]
        ]
        return [
            call(.get, "GET /v1/programmes/{id}/rubric", "/v1/programmes/\(setup.programme)/rubric", signedIn),
            call(.put, "PUT /v1/programmes/{id}/rubric", "/v1/programmes/\(setup.programme)/rubric", ["publisher"], body: json(rubric)),
            call(.get, "GET /v1/expert/scores", "/v1/expert/scores", ["expert", "otherExpert"]),
            call(.get, "GET /v1/review-assignments/{id}/score", "/v1/review-assignments/\(setup.seat)/score", ["expert"]),
            call(
                .put, "PUT /v1/review-assignments/{id}/score", "/v1/review-assignments/\(setup.seat)/score", ["expert"],
                body: json(["items": [["criterion": "innovation", "score": 75, "comment": "创新性较强"]]])),
            call(
                .post, "POST /v1/review-assignments/{id}/score/submit", "/v1/review-assignments/\(setup.seatToSubmit)/score/submit",
                ["expert"]),
            call(.post, "POST /v1/review-rounds/{id}/close", "/v1/review-rounds/\(setup.roundToClose)/close", ["publisher"]),
            call(.get, "GET /v1/review-rounds/{id}/ranking", "/v1/review-rounds/\(setup.closedRound)/ranking", ["publisher"]),
            call(.get, "GET /v1/challenges/{id}/winners", "/v1/challenges/\(setup.pickChallenge)/winners", ["publisher"]),
            call(
                .put, "PUT /v1/challenges/{id}/winners/{bidId}", "/v1/challenges/\(setup.pickChallenge)/winners/\(setup.pickBid)",
                ["publisher"]),
            AccessProbe(operation: "DELETE /v1/challenges/{id}/winners/{bidId}", allowed: ["publisher"]) { person, _ in
                if person == "publisher" {
                    try await db.execute(
                        """
                        INSERT INTO awards (challenge_id, bid_id, round_id)
                        SELECT \(setup.pickChallenge), \(setup.pickBid), \(setup.closedRound)
                        WHERE NOT EXISTS (SELECT 1 FROM awards WHERE bid_id = \(setup.pickBid))
                        """)
                }
                return (.delete, "/v1/challenges/\(setup.pickChallenge)/winners/\(setup.pickBid)", nil, [:])
            },
            call(
                .post, "POST /v1/challenges/{id}/winners/publish", "/v1/challenges/\(setup.publishChallenge)/winners/publish", ["publisher"]
            ),
            call(
                .post, "POST /v1/challenges/{id}/winners/finalise", "/v1/challenges/\(setup.finaliseChallenge)/winners/finalise",
                ["publisher"]),
            call(
                .post, "POST /v1/challenges/{id}/objections", "/v1/challenges/\(setup.objectChallenge)/objections", signedIn,
                body: json(["text": "对公示的揭榜单位名单提出异议，请核查。"])),
            call(.get, "GET /v1/challenges/{id}/objections", "/v1/challenges/\(setup.objectChallenge)/objections", ["publisher"]),
            AccessProbe(operation: "POST /v1/objections/{id}/resolve", allowed: ["publisher"]) { _, _ in
                let id = try await db.query(
                    """
                    INSERT INTO award_objections (challenge_id, objector_id, text)
                    SELECT \(setup.objectChallenge), id, '需要核查的揭榜单位异议内容' FROM users WHERE login = 'memberb' RETURNING id
                    """
                ).first!.decode(Int.self)
                return (.post, "/v1/objections/\(id)/resolve", json(["resolution": "经核查，异议不成立。"]), [:])
            },
            call(.get, "GET /v1/board/winners", "/v1/board/winners?programme=\(setup.programme)", everyone),
        ]
    }
}

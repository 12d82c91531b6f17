import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("A unit already in a live bid: the same named 409 inside a caller's transaction and in one of its own")
struct BidClashTests {
    /// How the losing submission runs.
    enum Path: String, Sendable, CaseIterable, CustomStringConvertible {
        /// `submit(id:ifRevision:by:on:)` in the caller's transaction.
        case callersTransaction
        /// `submit(id:ifRevision:by:database:)`, committing in its own transaction.
        case ownTransaction
        var description: String { rawValue }

        func submit(_ bid: Int, by actor: Actor, _ db: PostgresClient) async throws -> BidStore.Receipt {
            switch self {
            case .callersTransaction:
                try await db.withTransaction { try await BidStore.submit(id: bid, ifRevision: nil, by: actor, on: $0) }
            case .ownTransaction:
                try await BidStore.submit(id: bid, ifRevision: nil, by: actor, database: db)
            }
        }
    }

    /// The 409 `submit` answers when `unit` (named `name`) is in live bid `other`.
    static func named(unit: Int, name: String, in other: Int) -> DomainError {
        .conflict(
            field: "members",
            message: "unit \(unit) (\(name)) is already in live bid \(other) of this programme; each unit may apply for one challenge only")
    }

    @Test("A unit already in a live bid is refused with the same named 409 in the caller's transaction as in submit's own, and the caller's transaction goes on")
    func sameNamedConflict() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 1, challenges: 2)
            let partner = world.partners[0]
            let first = try await world.consortium(lead: world.leads[0], partner: partner, challenge: world.challenges[0])
            let second = try await world.consortium(lead: world.leads[1], partner: partner, challenge: world.challenges[1])
            _ = try await BidStore.submit(id: first, ifRevision: nil, by: world.leads[0].actor, database: db)
            let expected = Self.named(unit: partner.unitID, name: "金昌参与单位2", in: first)

            let own = await #expect(throws: DomainError.self) {
                try await BidStore.submit(id: second, ifRevision: nil, by: world.leads[1].actor, database: db)
            }
            #expect(own == expected)
            let (inside, afterwards) = try await db.withTransaction { tx in
                var refusal: (any Error)?
                do {
                    _ = try await BidStore.submit(id: second, ifRevision: nil, by: world.leads[1].actor, on: tx)
                } catch {
                    refusal = error
                }
                // The savepoint is gone, the transaction usable: the caller can write and commit.
                try await tx.execute("UPDATE bids SET technical_route = technical_route || '（修订）' WHERE id = \(second)")
                let status = try await tx.query("SELECT status::text FROM bids WHERE id = \(second)").first!.decode(String.self)
                return (refusal, status)
            }
            #expect(inside as? DomainError == expected)
            #expect(afterwards == "draft")
            let route = try await db.query("SELECT technical_route FROM bids WHERE id = \(second)").first!.decode(String.self)
            #expect(route.hasSuffix("（修订）"))
            let live = try await db.query("SELECT DISTINCT bid_id FROM bid_live_units").decode(Int.self)
            #expect(live == [first])
        }
    }

    @Test("Two submissions racing for one unit: the one that waits for the other's commit gets the named 409", arguments: Path.allCases)
    func raceForOneUnit(loser: Path) async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 2, partners: 1, challenges: 2)
            let partner = world.partners[0]
            let first = try await world.consortium(lead: world.leads[0], partner: partner, challenge: world.challenges[0])
            let second = try await world.consortium(lead: world.leads[1], partner: partner, challenge: world.challenges[1])
            let (release, releasing) = AsyncStream<Void>.makeStream()
            let (claims, claimed) = AsyncStream<Void>.makeStream()
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)

            // The winner claims the unit in its transaction and holds it open until the loser waits for it.
            let winner = Task {
                defer { claimed.finish() }
                return try await db.withTransaction { tx in
                    let receipt = try await BidStore.submit(id: first, ifRevision: nil, by: world.leads[0].actor, on: tx)
                    claimed.yield()
                    for await _ in release { break }
                    return receipt
                }
            }
            for await _ in claims { break }
            let challenger = Task { try await loser.submit(second, by: world.leads[1].actor, db) }
            let waiting = try await eventually(timeout: .seconds(60)) {
                try await db.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = \(name) AND wait_event_type = 'Lock'"
                ).first!.decode(Int.self) == 1
            }
            #expect(waiting, "the second submission never waited for the first one's unit")
            releasing.yield()
            releasing.finish()
            let receipt = try await winner.value
            #expect(receipt.bidID == first)
            let refusal = await #expect(throws: DomainError.self) { try await challenger.value }
            #expect(refusal == Self.named(unit: partner.unitID, name: "金昌参与单位2", in: first))
            let live = try await db.query("SELECT DISTINCT bid_id FROM bid_live_units").decode(Int.self)
            #expect(live == [first])
            let statuses = try await db.query("SELECT status::text FROM bids ORDER BY id").decode(String.self)
            #expect(statuses == ["submitted", "draft"])
        }
    }

    @Test("Sixteen submissions sharing one partner, each in a caller's transaction: exactly one wins, fifteen get the named 409")
    func manyCallersTransactions() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 16, partners: 1, challenges: 16)
            let partner = world.partners[0]
            var drafted: [Int] = []
            for (index, lead) in world.leads.enumerated() {
                drafted.append(try await world.consortium(lead: lead, partner: partner, challenge: world.challenges[index]))
            }
            let bids = drafted
            let outcomes = await withTaskGroup(of: Result<Int, DomainError>.self) { group in
                for (index, bid) in bids.enumerated() {
                    group.addTask {
                        do {
                            return .success(try await Path.callersTransaction.submit(bid, by: world.leads[index].actor, db).bidID)
                        } catch let error as DomainError {
                            return .failure(error)
                        } catch {
                            return .failure(.conflict(field: nil, message: "not a DomainError: \(error)"))
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let won = outcomes.compactMap { try? $0.get() }
            #expect(won.count == 1)
            let winner = try #require(won.first)
            let refusals = outcomes.compactMap { outcome -> DomainError? in
                if case .failure(let error) = outcome { return error }
                return nil
            }
            #expect(refusals.count == 15)
            #expect(refusals.allSatisfy { $0 == Self.named(unit: partner.unitID, name: "金昌参与单位16", in: winner) })
        }
    }
}

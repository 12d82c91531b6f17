import Foundation
import JiebangTesting
import Postgres

/// A programme with many submitted bids for the summary export, made in a few statements: one bid built
/// through the stores, copied as drafts with its consortium, then all submitted by one UPDATE that runs
/// the database's own checks (bids_check) on every row.
struct SummaryTable: Sendable {
    var world: BidWorld
    var bids: Int

    /// Makes `bids` submitted bids in one programme whose units may be in several live bids.
    static func make(_ db: PostgresClient, bids: Int) async throws -> SummaryTable {
        let world = try await BidWorld.make(db, leads: 1, partners: 1, challenges: 1, oneLiveBidPerUnit: false)
        let template = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
        try await db.withTransaction { tx in
            // Made once per test, not a request: the pool's statement timeout is for requests.
            try await tx.execute("SET LOCAL statement_timeout = 0")
            try await tx.execute(
                """
                INSERT INTO bids (programme_id, challenge_id, lead_unit_id, region_code, technical_route, rd_foundation,
                                  indicator_answers, total_investment_fen, self_funding_fen, requested_funding_fen, team,
                                  completion_commitment, created_by)
                SELECT programme_id, challenge_id, lead_unit_id, region_code, technical_route, rd_foundation,
                       indicator_answers, total_investment_fen, self_funding_fen, requested_funding_fen, team,
                       completion_commitment, created_by
                FROM bids, generate_series(2, \(bids)) WHERE id = \(template)
                """)
            try await tx.execute(
                """
                INSERT INTO bid_members (bid_id, unit_id, programme_id, role, status, exclusive, part_role, tasks,
                                         budget_share_fen, contribution, responded_by, responded_at)
                SELECT b.id, m.unit_id, m.programme_id, m.role, m.status, m.exclusive, m.part_role, m.tasks,
                       m.budget_share_fen, m.contribution, m.responded_by, m.responded_at
                FROM bids b JOIN bid_members m ON m.bid_id = \(template)
                WHERE b.programme_id = \(world.programme) AND b.id <> \(template)
                """)
            // The copies outgrow the planner's figures, which the triggers' plans (and the export's) go by.
            try await tx.execute("ANALYZE bids, bid_members")
            try await tx.execute(
                "UPDATE bids SET status = 'submitted', version = 1 WHERE programme_id = \(world.programme) AND status = 'draft'")
        }
        return SummaryTable(world: world, bids: bids)
    }

    /// The summary's path for the programme.
    func path(format: String = "csv") -> String {
        "/v1/programmes/\(world.programme)/bids/summary?format=\(format)"
    }

    /// The publisher's token.
    var token: String { world.fixture.tokens["publisher"]! }
}

/// The memory figures of a process, from `/proc/<pid>/status`.
enum ProcessMemory {
    /// The peak resident set size (VmHWM) in bytes.
    static func peak(of pid: Int32) throws -> Int {
        try field("VmHWM", of: pid)
    }

    /// The resident set size (VmRSS) in bytes.
    static func resident(of pid: Int32) throws -> Int {
        try field("VmRSS", of: pid)
    }

    static func field(_ name: String, of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
            let kilobytes = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
        else { throw CocoaError(.fileReadCorruptFile) }
        return kilobytes * 1024
    }
}

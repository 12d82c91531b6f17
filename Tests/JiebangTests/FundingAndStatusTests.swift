import Foundation
import Jiebang
import Testing

@Suite("Funding caps and challenge status")
struct FundingAndStatusTests {
    @Test("Gansu: exactly the cap passes, one fen over fails, for the share and for the absolute cap", arguments: [
        (Int64(100_000_000_000), Int64(500_000_000)),  // 10% of 1e9 yuan is above 5,000,000 yuan: the absolute cap
        (Int64(100_000_000), Int64(10_000_000)),  // 10% of 1,000,000 yuan
        (Int64(12_345), Int64(1_234)),  // 10% of 123.45 yuan, rounded down to the fen
    ])
    func gansuBoundaries(total: Int64, cap: Int64) throws {
        let policy = FundingPolicy.gansu
        #expect(policy.cap(totalInvestmentFen: total) == cap)
        try policy.check(requestedFen: cap, totalInvestmentFen: total)
        #expect(throws: FundingPolicy.Problem.exceedsCap(requestedFen: cap + 1, capFen: cap)) {
            try policy.check(requestedFen: cap + 1, totalInvestmentFen: total)
        }
    }

    @Test("A request is at most min(the challenge's ceiling, the share, the absolute cap), and the refusal names the limit that binds")
    func challengeCeiling() throws {
        let policy = FundingPolicy.gansu
        // Total 20,000,000.00 元: the share is 2,000,000.00 元, under the absolute cap.
        let total: Int64 = 2_000_000_000
        try policy.check(requestedFen: 100_000_000, totalInvestmentFen: total, challengeCeilingFen: 100_000_000)
        #expect(throws: FundingPolicy.Problem.exceedsCeiling(requestedFen: 100_000_001, ceilingFen: 100_000_000)) {
            try policy.check(requestedFen: 100_000_001, totalInvestmentFen: total, challengeCeilingFen: 100_000_000)
        }
        #expect(throws: FundingPolicy.Problem.exceedsCap(requestedFen: 200_000_001, capFen: 200_000_000)) {
            try policy.check(requestedFen: 200_000_001, totalInvestmentFen: total, challengeCeilingFen: 900_000_000)
        }
        #expect(FundingPolicy.Problem.exceedsCeiling(requestedFen: 200_000_000, ceilingFen: 100_000_000).description
            == "2,000,000.00 元 is more than the challenge's funding ceiling (1,000,000.00 元)")
    }

    @Test("Qinghai's 30% and 3,000,000 CNY is expressible, and huge totals do not overflow")
    func qinghaiAndOverflow() throws {
        #expect(FundingPolicy.qinghai.cap(totalInvestmentFen: 500_000_000) == 150_000_000)
        #expect(FundingPolicy.qinghai.cap(totalInvestmentFen: 5_000_000_000) == 300_000_000)
        #expect(FundingPolicy.gansu.cap(totalInvestmentFen: .max) == 500_000_000)
        let all = FundingPolicy(ratioCapBasisPoints: 10_000, absoluteCapFen: .max)
        #expect(all.cap(totalInvestmentFen: .max) == .max)
        #expect(throws: FundingPolicy.Problem.notPositive) { try FundingPolicy.gansu.check(requestedFen: 0, totalInvestmentFen: 100) }
        #expect(FundingPolicy.Problem.exceedsCap(requestedFen: 500_000_001, capFen: 500_000_000).description
            == "5,000,000.01 元 is more than the programme allows for this project (5,000,000.00 元)")
    }

    @Test("A draft publishes before its deadline; a published challenge closes at its deadline and never returns")
    func statusTransitions() throws {
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        let deadline = now.addingTimeInterval(86_400 * 30)
        #expect(try ChallengeStatus.draft.publishing(at: now, deadline: deadline) == .published)
        #expect(throws: ChallengeStatus.Problem.deadlinePassed) {
            try ChallengeStatus.draft.publishing(at: deadline, deadline: deadline)
        }
        #expect(throws: ChallengeStatus.Problem.notDraft(.published)) {
            try ChallengeStatus.published.publishing(at: now, deadline: deadline)
        }
        #expect(ChallengeStatus.published.closing(at: now, deadline: deadline) == .published)
        #expect(ChallengeStatus.published.closing(at: deadline, deadline: deadline) == .closed)
        #expect(ChallengeStatus.draft.closing(at: deadline, deadline: deadline) == .draft)
        #expect(!ChallengeStatus.draft.changesNeedAmendment)
        #expect(ChallengeStatus.published.changesNeedAmendment)
        #expect(throws: ChallengeStatus.Problem.notOpen(.closed)) { try ChallengeStatus.closed.amending() }
    }
}

import Foundation
import Jiebang
import Testing

@Suite("Score aggregation: weighted totals, trimmed means and the tie rule")
struct ScoreAggregationTests {
    static let rubric = [
        ScoreAggregation.Criterion(key: "rd_foundation", weight: 30, minScore: 0, maxScore: 100),
        ScoreAggregation.Criterion(key: "innovation", weight: 30, minScore: 0, maxScore: 100),
        ScoreAggregation.Criterion(key: "technical_plan", weight: 25, minScore: 0, maxScore: 100),
        ScoreAggregation.Criterion(key: "funding", weight: 15, minScore: 0, maxScore: 100),
    ]

    static func sheet(_ rd: Int, _ innovation: Int, _ plan: Int, _ funding: Int) -> [String: Int] {
        ["rd_foundation": rd, "innovation": innovation, "technical_plan": plan, "funding": funding]
    }

    static func points(_ text: String) -> Points {
        try! JSONDecoder().decode(Points.self, from: Data("\"\(text)\"".utf8))
    }

    @Test("A weighted total is Σ weight·score / Σ weight on 0–100, exact to four decimals")
    func weightedTotal() {
        #expect(ScoreAggregation.weightedTotal(Self.sheet(100, 100, 100, 100), rubric: Self.rubric).description == "100.0000")
        #expect(ScoreAggregation.weightedTotal(Self.sheet(0, 0, 0, 0), rubric: Self.rubric).description == "0.0000")
        // (30·80 + 30·90 + 25·70 + 15·60) / 100 = 77.5
        #expect(ScoreAggregation.weightedTotal(Self.sheet(80, 90, 70, 60), rubric: Self.rubric).description == "77.5000")
        // (30·81 + 30·77 + 25·69 + 15·94) / 100 = 78.75
        #expect(ScoreAggregation.weightedTotal(Self.sheet(81, 77, 69, 94), rubric: Self.rubric).description == "78.7500")
    }

    @Test("Criteria on different scales are normalised, and a third is rounded half up at the fourth decimal")
    func differentScales() {
        let rubric = [
            ScoreAggregation.Criterion(key: "a", weight: 1, minScore: 0, maxScore: 3),
            ScoreAggregation.Criterion(key: "b", weight: 2, minScore: 1, maxScore: 10),
        ]
        // 100 · (1·1/3 + 2·0/9) / 3 = 11.1111…
        #expect(ScoreAggregation.weightedTotal(["a": 1, "b": 1], rubric: rubric).description == "11.1111")
        // 100 · (1·2/3 + 2·9/9) / 3 = 88.8888… → 88.8889
        #expect(ScoreAggregation.weightedTotal(["a": 2, "b": 10], rubric: rubric).description == "88.8889")
        // Ten criteria with coprime ranges stay exact (no overflow).
        let primes = [97, 89, 83, 79, 73, 71, 67, 61, 59, 53]
        let wide = primes.enumerated().map {
            ScoreAggregation.Criterion(key: "k\($0.offset)", weight: 100, minScore: 0, maxScore: $0.element)
        }
        let full = Dictionary(uniqueKeysWithValues: primes.enumerated().map { ("k\($0.offset)", $0.element) })
        #expect(ScoreAggregation.weightedTotal(full, rubric: wide).description == "100.0000")
    }

    @Test("With five or more scores the one highest and the one lowest are dropped; with four none is")
    func trimmedMean() {
        let five = [
            Self.sheet(90, 90, 90, 90), Self.sheet(80, 80, 80, 80), Self.sheet(70, 70, 70, 70), Self.sheet(10, 10, 10, 10),
            Self.sheet(100, 100, 100, 100),
        ]
        let standing = ScoreAggregation.rank([.init(bidID: 1, submittedAt: nil, sheets: five)], rubric: Self.rubric)[0]
        #expect(standing.scoreCount == 5)
        #expect(standing.countedTotals == 3)
        #expect(standing.trimmedMean?.description == "80.0000")
        #expect(standing.median?.description == "80.0000")
        let four = Array(five.prefix(4))
        let plain = ScoreAggregation.rank([.init(bidID: 1, submittedAt: nil, sheets: four)], rubric: Self.rubric)[0]
        #expect(plain.countedTotals == 4)
        #expect(plain.trimmedMean?.description == "62.5000")
        #expect(plain.median?.description == "75.0000")
    }

    @Test("Ties fall to the median, then the 创新能力 average, then the earlier bid submission, then the bid id")
    func ties() {
        let early = Date(timeIntervalSince1970: 1_000)
        let late = Date(timeIntervalSince1970: 2_000)
        // Equal trimmed means (70), different medians: bid 2's median is higher.
        let a = ScoreAggregation.BidScores(
            bidID: 1, submittedAt: early,
            sheets: [Self.sheet(60, 60, 60, 60), Self.sheet(70, 70, 70, 70), Self.sheet(80, 80, 80, 80), Self.sheet(70, 70, 70, 70)])
        let b = ScoreAggregation.BidScores(
            bidID: 2, submittedAt: late,
            sheets: [Self.sheet(50, 50, 50, 50), Self.sheet(80, 80, 80, 80), Self.sheet(80, 80, 80, 80), Self.sheet(70, 70, 70, 70)])
        #expect(ScoreAggregation.rank([a, b], rubric: Self.rubric).map(\.bidID) == [2, 1])
        // Equal totals and medians: the higher innovation average wins (90 vs 70, totals both 76).
        let c = ScoreAggregation.BidScores(bidID: 3, submittedAt: late, sheets: [Self.sheet(70, 90, 70, 70)])
        let d = ScoreAggregation.BidScores(bidID: 4, submittedAt: early, sheets: [Self.sheet(90, 70, 70, 70)])
        #expect(
            ScoreAggregation.weightedTotal(c.sheets[0], rubric: Self.rubric)
                == ScoreAggregation.weightedTotal(d.sheets[0], rubric: Self.rubric))
        #expect(ScoreAggregation.rank([d, c], rubric: Self.rubric).map(\.bidID) == [3, 4])
        // Everything equal: the earlier submission, then the lower id.
        let e = ScoreAggregation.BidScores(bidID: 5, submittedAt: late, sheets: [Self.sheet(70, 70, 70, 70)])
        let f = ScoreAggregation.BidScores(bidID: 6, submittedAt: early, sheets: [Self.sheet(70, 70, 70, 70)])
        let g = ScoreAggregation.BidScores(bidID: 7, submittedAt: early, sheets: [Self.sheet(70, 70, 70, 70)])
        #expect(ScoreAggregation.rank([g, e, f], rubric: Self.rubric).map(\.bidID) == [6, 7, 5])
        #expect(ScoreAggregation.rank([g, e, f], rubric: Self.rubric).map(\.rank) == [1, 2, 3])
    }

    @Test("Means are compared exactly, not as rounded decimals, and an unscored bid ranks last")
    func exactComparison() {
        // 200/3 = 66.66666… and 66.6667 differ only past the fourth decimal.
        let thirds = ScoreAggregation.BidScores(
            bidID: 1, submittedAt: nil, sheets: [Self.sheet(100, 100, 100, 100), Self.sheet(50, 50, 50, 50), Self.sheet(50, 50, 50, 50)])
        let rubric = [ScoreAggregation.Criterion(key: "rd_foundation", weight: 1, minScore: 0, maxScore: 100)]
        let rounded = ScoreAggregation.BidScores(bidID: 2, submittedAt: nil, sheets: [["rd_foundation": 67]])
        let unscored = ScoreAggregation.BidScores(bidID: 3, submittedAt: nil, sheets: [])
        let ranking = ScoreAggregation.rank([unscored, thirds, rounded], rubric: rubric)
        #expect(ranking.map(\.bidID) == [2, 1, 3])
        #expect(ranking[1].trimmedMean?.description == "66.6667")
        #expect(ranking[2].trimmedMean == nil && ranking[2].scoreCount == 0)
    }

    @Test("Points are written and read as exact decimal strings")
    func pointsText() throws {
        #expect(Self.points("87.5000").tenThousandths == 875_000)
        #expect(Points(tenThousandths: 5).description == "0.0005")
        let data = try JSONEncoder().encode([Points(tenThousandths: 1_000_000)])
        #expect(String(decoding: data, as: UTF8.self) == #"["100.0000"]"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Points.self, from: Data(#""87.5""#.utf8)) }
    }

    @Test("The 公示 period counts working days after the day of publication, skipping weekends and holidays")
    func publicityPeriod() {
        // Thursday 2026-12-03, 15:00 in Shanghai: Fri 4, Mon 7, Tue 8, Wed 9, Thu 10.
        let thursday = Date(timeIntervalSince1970: 1_796_281_200)
        let period = PublicityPeriod(publishedAt: thursday, workingDays: 5)
        #expect(period.firstDay == "2026-12-04")
        #expect(period.lastDay == "2026-12-10")
        #expect(period.objectionsCloseAt == Date(timeIntervalSince1970: 1_796_918_400))
        // Published on Saturday 2026-12-05: Mon 7 … Fri 11; with Tue 8 a holiday, Mon 7 … Mon 14.
        let saturday = thursday + 2 * 86_400
        #expect(PublicityPeriod(publishedAt: saturday, workingDays: 5).lastDay == "2026-12-11")
        let withHoliday = PublicityPeriod(publishedAt: saturday, workingDays: 5, holidays: ["2026-12-08"])
        #expect(withHoliday.firstDay == "2026-12-07" && withHoliday.lastDay == "2026-12-14")
        // Late on Friday in Shanghai (Friday 23:30 +08 is Friday 15:30 UTC): the period starts on Monday.
        let fridayNight = Date(timeIntervalSince1970: 1_796_398_200)
        #expect(PublicityPeriod(publishedAt: fridayNight, workingDays: 1).lastDay == "2026-12-07")
    }
}

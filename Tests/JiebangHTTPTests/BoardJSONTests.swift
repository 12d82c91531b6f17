import Foundation
import StreamingJSON
import Testing

@testable import JiebangHTTP

@Suite("The board's own JSON")
struct BoardJSONTests {
    @Test("The board's page writes the same bytes by hand as through Encodable, for 300 random pages of awkward text")
    func handWrittenMatchesEncodable() throws {
        var random = SystemRandomNumberGenerator()
        let pieces = [
            "稀土", "永磁", "\"", "\\", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "e\u{301}", "🧲", "👩‍🔬", "/", "</script>", "a", " ", "",
            "\u{2028}", "\u{FFFD}",
        ]
        func text() -> String { (0..<Int.random(in: 0...12, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() }
        let numbers: [Int] = [0, 1, -1, 9, 10, 99, 100, Int.max, Int.min, 1_000_000_007]
        let dates: [TimeInterval] = [0, -1, 0.999, 1_799_999_999.5, -62_135_596_800, 253_402_300_799, 1e13, -3e11, 1_767_225_600]
        for round in 0..<300 {
            let items = (0..<Int.random(in: 0...21, using: &random)).map { _ in
                BoardController.EntryView(
                    id: numbers.randomElement(using: &random)!, programmeID: Int.random(in: -5...5_000_000, using: &random), title: text(),
                    category: text(), domain: text(), industryChain: text(), status: text(),
                    applicationDeadline: Date(
                        timeIntervalSince1970: round % 2 == 0
                            ? dates.randomElement(using: &random)! : Double.random(in: -1e11...1e11, using: &random)),
                    fundingCeilingFen: Int64(numbers.randomElement(using: &random)!), version: Int.random(in: 0...99, using: &random))
            }
            let page = BoardController.PageView(items: items, next: Bool.random(using: &random) ? nil : text())
            var json = JSONComposer(capacity: 16)
            page.write(to: &json)
            let byHand = json.withBytes { Data($0) }
            let encoded = try StreamingJSONEncoder().encode(page)
            #expect(byHand == encoded, "\(String(decoding: byHand, as: UTF8.self)) ≠ \(String(decoding: encoded, as: UTF8.self))")
        }
    }
}

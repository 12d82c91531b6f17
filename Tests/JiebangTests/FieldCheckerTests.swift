@testable import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Field checks")
struct FieldCheckerTests {
    @Test("A length counts code points between the first and last non-blank character, as char_length(btrim(…)) does")
    func lengthCountsCodePoints() async throws {
        let samples = ["", "   ", "\n\t 稀土 \u{3000}", "稀土永磁材料", " a b ", "👩‍🔬 研究", "e\u{301}"]
        let expected = [0, 0, 2, 6, 3, 6, 2]
        #expect(samples.map(FieldChecker.trimmedLength) == expected)
        try await TestDatabase.withFreshDatabase { db in
            for (text, count) in zip(samples, expected) {
                let database = try await db.query(
                    "SELECT char_length(btrim(\(text), E' \\t\\n\\r\\u3000'))"
                ).first?.decode(Int.self)
                #expect(database == count, "\(text.debugDescription)")
            }
        }
        var checker = FieldChecker()
        checker.length("title", "  稀土  ", 3...10)
        checker.length("task", " \n ", 1...10)
        checker.maxLength("route", String(repeating: "稀", count: 4), 3)
        #expect(checker.issues.map(\.description) == [
            "title: must have 3 to 10 characters, not 2", "task: is required", "route: must have at most 3 characters, not 4",
        ])
    }
}

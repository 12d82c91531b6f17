import Foundation
import JiebangTesting
import Postgres
import Testing

@testable import Jiebang

@Suite("Field checks")
struct FieldCheckerTests {
    @Test("The control characters a field refuses are exactly Unicode's category Cc, and on several lines tab and line breaks are allowed")
    func controlCharactersAreCategoryCc() {
        var wrong: [String] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let control = scalar.properties.generalCategory == .control
            let text = "稀土" + String(Character(scalar))
            let allowedInText = value == 0x09 || value == 0x0A || value == 0x0D
            if (FieldChecker.controlCharacter(in: text, singleLine: true) != nil) != control
                || (FieldChecker.controlCharacter(in: text, singleLine: false) != nil) != (control && !allowedInText)
            {
                wrong.append("U+" + String(value, radix: 16))
            }
        }
        #expect(wrong == [])
    }

    @Test("A name's one-line check skips the same characters at either end as Foundation's whitespacesAndNewlines trimming")
    func trimmingMatchesFoundation() {
        var wrong: [String] = []
        // Every White_Space code point is in the Basic Multilingual Plane. Foundation also trims U+200B (no
        // longer white space in Unicode); it is no control character, so a name's check is the same.
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = String(Character(scalar)) + "稀土 x" + String(Character(scalar))
            let ours = FieldChecker.controlCharacter(in: String(Substring(FieldChecker.trimmedScalars(text))), singleLine: true)
            let foundation = FieldChecker.controlCharacter(in: text.trimmingCharacters(in: .whitespacesAndNewlines), singleLine: true)
            if ours != foundation
                || (value != 0x200B
                    && String(Substring(FieldChecker.trimmedScalars(text))) != text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                wrong.append("U+" + String(value, radix: 16))
            }
        }
        #expect(wrong == [])
        var checker = FieldChecker()
        checker.name("name", "\u{3000}\u{2028}兰州稀土\u{A0}\n", 2...200)
        checker.name("title", "\u{3000}稀土\n永磁 ", 2...200)
        #expect(checker.issues.map(\.description) == ["title: must be one line, without tabs or line breaks (U+000A)"])
    }

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
        #expect(
            checker.issues.map(\.description) == [
                "title: must have 3 to 10 characters, not 2", "task: is required", "route: must have at most 3 characters, not 4",
            ])
    }

    @Test("Names refuse every control character, tab and line breaks included; long texts keep tab, LF and CR only")
    func controlCharacters() {
        var checker = FieldChecker()
        checker.name("name", " 兰州稀土\n ", 2...200)
        checker.name("title", "稀土\t永磁", 2...200)
        checker.name("contactName", "张\u{7}伟", 1...100)
        checker.length("task", "第一行\n第二行\r\n\t第三行", 2...2000)
        checker.length("content", "稀土\u{1B}[31m永磁", 2...2000)
        checker.maxLength("team[0].title", "工程师\u{85}", 100)
        #expect(
            checker.issues.map(\.description) == [
                "title: must be one line, without tabs or line breaks (U+0009)",
                "contactName: must not contain the control character U+0007",
                "content: must not contain the control character U+001B",
                "team[0].title: must not contain the control character U+0085",
            ])
    }
}

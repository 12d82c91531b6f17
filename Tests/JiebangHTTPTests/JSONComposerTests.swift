import Foundation
import StreamingJSON
import Testing

@Suite("JSONComposer")
struct JSONComposerTests {
    @Test("Commas go between members and between elements, never after a key or an opening bracket, at any depth")
    func separators() throws {
        var json = JSONComposer(capacity: 1)
        json.beginArray()
        json.beginArray()
        json.endArray()
        json.beginArray()
        json.integer(1)
        json.integer(-2)
        json.endArray()
        json.beginObject()
        json.key("a")
        json.beginArray()
        json.beginObject()
        json.endObject()
        json.null()
        json.string("x:[")
        json.endArray()
        json.member("b", Date(timeIntervalSince1970: 86_400.75))
        json.key("c")
        json.beginObject()
        json.member("d", UInt8(255))
        json.member("e", "\u{1}")
        json.endObject()
        json.endObject()
        json.string("")
        json.endArray()
        let text = json.withBytes { String(decoding: $0, as: UTF8.self) }
        #expect(text == #"[[],[1,-2],{"a":[{},null,"x:["],"b":"1970-01-02T00:00:00Z","c":{"d":255,"e":"\u0001"}},""]"#)
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [Any])
    }
}

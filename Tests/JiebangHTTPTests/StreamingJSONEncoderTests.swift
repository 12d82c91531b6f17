import Foundation
import Hummingbird
import HummingbirdTesting
import JiebangHTTP
import StreamingJSON
import Testing

@Suite("StreamingJSONEncoder")
struct StreamingJSONEncoderTests {
    // MARK: Fixtures. Keys are declared in sorted order where the bytes are compared with JSONEncoder's.

    struct Person: Codable, Equatable {
        var age: Int?
        var email: String?
        var name: String
    }

    struct Article: Codable {
        var author: Person?
        var body: String
        var id: Int
        var published: Date?
        var ratio: Double
        var reviewers: [Person]
        var tags: [String]?
        var views: Int64
    }

    struct Empty: Codable {}

    struct AllOptional: Codable {
        var a: Int?
        var b: [String]?
        var c: Empty?
    }

    enum Colour: String, Codable {
        case red, deepBlue = "deep-blue"
    }

    enum Shape: Codable {
        case circle(radius: Double)
        case rectangle(width: Double, height: Double)
        case labelled(String, Colour)
        case point
    }

    struct Scalars: Codable {
        var bool: Bool
        var double: Double
        var float: Float
        var int: Int
        var int16: Int16
        var int32: Int32
        var int64: Int64
        var int8: Int8
        var uint: UInt
        var uint16: UInt16
        var uint32: UInt32
        var uint64: UInt64
        var uint8: UInt8
    }

    struct Foundations: Codable {
        var data: Data
        var date: Date
        var decimal: Decimal
        var url: URL
        var uuid: UUID
    }

    class Animal: Encodable {
        var legs: Int
        var name: String

        init(legs: Int, name: String) {
            self.legs = legs
            self.name = name
        }
    }

    /// Encodes its superclass under "super" with `superEncoder()`.
    final class Dog: Animal {
        var breed: String

        init(breed: String) {
            self.breed = breed
            super.init(legs: 4, name: "Rex")
        }

        enum CodingKeys: CodingKey { case breed }

        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(breed, forKey: .breed)
            try super.encode(to: container.superEncoder())
        }
    }

    /// Encodes its superclass's keys into the same object, through the same encoder.
    final class Cat: Animal {
        var lives: Int

        init(lives: Int) {
            self.lives = lives
            super.init(legs: 4, name: "Tom")
        }

        enum CodingKeys: CodingKey { case lives }

        override func encode(to encoder: any Encoder) throws {
            try super.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(lives, forKey: .lives)
        }
    }

    /// Writes nested containers by hand, each filled before its parent goes on.
    struct Handmade: Encodable {
        enum Keys: String, CodingKey { case a, b, c, d, e }
        enum Inner: String, CodingKey { case x, y }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .a)
            var list = container.nestedUnkeyedContainer(forKey: .b)
            try list.encode("one")
            var object = list.nestedContainer(keyedBy: Inner.self)
            try object.encode(true, forKey: .x)
            try object.encodeNil(forKey: .y)
            var deeper = list.nestedUnkeyedContainer()
            try deeper.encode(2.5)
            _ = deeper.nestedUnkeyedContainer()
            try list.encode(3)
            _ = container.nestedContainer(keyedBy: Inner.self, forKey: .c)
            var last = container.nestedContainer(keyedBy: Inner.self, forKey: .d)
            let superEncoder = last.superEncoder(forKey: .x)
            _ = superEncoder.userInfo
            var single = superEncoder.singleValueContainer()
            try single.encode("from super")
            try container.encode([Int](), forKey: .e)
        }
    }

    /// Asks for a container and encodes nothing into it.
    struct Silent: Encodable {
        enum Keys: CodingKey { case unused }
        func encode(to encoder: any Encoder) throws {
            _ = encoder.container(keyedBy: Keys.self)
        }
    }

    /// Asks for no container at all.
    struct Nothing: Encodable {
        func encode(to encoder: any Encoder) throws {}
    }

    struct Wrapper<Value: Encodable>: Encodable {
        var value: Value
    }

    // MARK: Helpers

    static func foundationEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The document parsed and written again with sorted keys, to compare JSON whatever the key order.
    static func canonical(_ data: Data) throws -> String {
        let object = try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
        let again = try JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        return String(decoding: again, as: UTF8.self)
    }

    static func streaming(_ value: some Encodable) throws -> String {
        String(decoding: try StreamingJSONEncoder().encode(value), as: UTF8.self)
    }

    /// Checks that both encoders write the same JSON; with `sameBytes` (every object's keys are
    /// encoded in sorted order) that they write the very same bytes.
    static func expectSameAsFoundation(
        _ value: some Encodable, sameBytes: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let ours = try StreamingJSONEncoder().encode(value)
        let theirs = try foundationEncoder().encode(value)
        #expect(try canonical(ours) == canonical(theirs), sourceLocation: sourceLocation)
        if sameBytes {
            #expect(
                String(decoding: ours, as: UTF8.self) == String(decoding: theirs, as: UTF8.self),
                sourceLocation: sourceLocation)
        }
    }

    static let controlCharacters = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })

    static func date(_ text: String) -> Date {
        (try? Date(text, strategy: .iso8601)) ?? .distantPast
    }

    // MARK: Differential tests

    @Test("Nested structs, optionals present and absent, and arrays of structs match JSONEncoder byte for byte")
    func structs() throws {
        let alice = Person(age: 30, email: "alice@example.com", name: "Alice")
        let bob = Person(age: nil, email: nil, name: "Bob")
        let full = Article(
            author: alice, body: "正文 with \"quotes\"", id: 7, published: Self.date("2026-11-27T09:00:00Z"), ratio: 0.25,
            reviewers: [alice, bob], tags: ["a/b", ""], views: Int64.max)
        let sparse = Article(
            author: nil, body: "", id: -1, published: nil, ratio: 3.0, reviewers: [], tags: nil, views: Int64.min)
        try Self.expectSameAsFoundation(full)
        try Self.expectSameAsFoundation(sparse)
        try Self.expectSameAsFoundation([full, sparse, full])
        try Self.expectSameAsFoundation([Article]())
        try Self.expectSameAsFoundation(Empty())
        try Self.expectSameAsFoundation([Empty(), Empty()])
        try Self.expectSameAsFoundation(AllOptional())
        try Self.expectSameAsFoundation(AllOptional(a: 1, b: [], c: Empty()))
        try Self.expectSameAsFoundation([[Int]](arrayLiteral: [], [1], [], [2, 3]))
        try Self.expectSameAsFoundation([1, nil, 3] as [Int?])
        try Self.expectSameAsFoundation([Nothing(), Nothing()])
        try Self.expectSameAsFoundation(Wrapper(value: Silent()))
    }

    @Test("Dictionaries keyed by strings and by integers match JSONEncoder")
    func dictionaries() throws {
        try Self.expectSameAsFoundation(["b": 2, "a": 1, "中文": 3, "quote\"key": 4], sameBytes: false)
        try Self.expectSameAsFoundation([3: "three", -1: "minus one", 10: "ten"], sameBytes: false)
        try Self.expectSameAsFoundation(["outer": ["inner": [1.5, 2]]], sameBytes: false)
        try Self.expectSameAsFoundation([String: Int]())
        try Self.expectSameAsFoundation([Colour: Int](), sameBytes: false)
        try Self.expectSameAsFoundation(["only": Person(age: 1, email: nil, name: "x")])
    }

    @Test("Strings with every control character, quotes, backslashes, slashes, Chinese and emoji match JSONEncoder")
    func strings() throws {
        let samples = [
            "", "plain", Self.controlCharacters, "\"", "\\", "/", "a/b\\c\"d", "接榜挂帅：稀土永磁材料", "😀👩‍👩‍👧‍👦🇨🇳",
            "\u{7F}\u{80}\u{2028}\u{2029}\u{FEFF}", "tab\there\nnewline\r\n", "https://example.com/a/b?c=d&e=f",
            String(repeating: "长文本 long text ", count: 200), "\u{0}", "ends with quote\"", "\"starts with quote",
        ]
        for sample in samples {
            try Self.expectSameAsFoundation(sample)
            try Self.expectSameAsFoundation([sample: sample])
        }
        // Every special byte at every position of a string longer than one eight-byte word.
        for special in Self.controlCharacters.unicodeScalars.map(String.init) + ["\"", "\\", "/", "é", "中"] {
            for position in 0...17 {
                var text = Array(repeating: "x", count: 17)
                text.insert(special, at: position)
                try Self.expectSameAsFoundation(text.joined())
            }
        }
    }

    @Test("Integers of every width at their extremes match JSONEncoder")
    func integers() throws {
        try Self.expectSameAsFoundation(
            Scalars(
                bool: true, double: 1, float: 1, int: .min, int16: .min, int32: .min, int64: .min, int8: .min, uint: .max,
                uint16: .max, uint32: .max, uint64: .max, uint8: .max))
        try Self.expectSameAsFoundation(
            Scalars(
                bool: false, double: 0, float: 0, int: .max, int16: .max, int32: .max, int64: .max, int8: .max, uint: 0,
                uint16: 0, uint32: 0, uint64: 0, uint8: 0))
        try Self.expectSameAsFoundation([Int64.min, Int64.max, 0, -1, 9, 10, 99, 100, 999_999_999_999])
        try Self.expectSameAsFoundation([UInt64.max, 10_000_000_000_000_000_000])
        try Self.expectSameAsFoundation([Int128.min, Int128.max])
        try Self.expectSameAsFoundation(UInt128.max)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let value = Int64(bitPattern: generator.next()) >> Int64.random(in: 0..<63)
            try Self.expectSameAsFoundation(value)
        }
    }

    @Test("Doubles and floats print as JSONEncoder prints them, whole numbers without .0")
    func floatingPoint() throws {
        let doubles: [Double] = [
            0, -0.0, 0.1, 1e300, 1e-7, 3.0, -3.0, 1e15, 1e16, 1e22, 9_007_199_254_740_992, 9_007_199_254_740_994,
            9_007_199_254_740_991, -9_007_199_254_740_996, 123_456.789, 0.5, 1.7976931348623157e308, .leastNonzeroMagnitude,
            .leastNormalMagnitude, 2.2250738585072014e-308, 100_000, 1e-5, 0.0001,
        ]
        try Self.expectSameAsFoundation(doubles)
        for double in doubles {
            try Self.expectSameAsFoundation(double)
        }
        let floats: [Float] = [0, -0.0, 0.1, 3, 1e30, 16_777_216, 16_777_218, 1e-7, .greatestFiniteMagnitude, 0.3333333]
        try Self.expectSameAsFoundation(floats)
        var generator = SystemRandomNumberGenerator()
        var randomDoubles: [Double] = []
        var randomFloats: [Float] = []
        while randomDoubles.count < 2000 {
            let double = Double(bitPattern: generator.next())
            if double.isFinite { randomDoubles.append(double) }
            let float = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
            if float.isFinite { randomFloats.append(float) }
            randomDoubles.append(Double(Int64.random(in: -(1 << 54)...(1 << 54))))
            randomDoubles.append(Double(Int.random(in: -1_000_000...1_000_000)) / 100)
        }
        try Self.expectSameAsFoundation(randomDoubles)
        try Self.expectSameAsFoundation(randomFloats)
    }

    @Test("Dates before 1970, on leap days, in year 9999 and with fractions print as JSONEncoder's .iso8601")
    func dates() throws {
        let texts = [
            "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1900-02-28T12:00:00Z", "1900-03-01T00:00:00Z",
            "2000-02-29T23:59:59Z", "2024-02-29T00:00:00Z", "2100-03-01T00:00:00Z", "9999-12-31T23:59:59Z",
            "1582-10-15T00:00:00Z", "0001-01-01T00:00:00Z", "2026-11-27T09:00:00Z",
        ]
        for text in texts {
            try Self.expectSameAsFoundation(Self.date(text))
        }
        let intervals: [TimeInterval] = [
            0, -0.5, 0.5, 0.999_999, -0.000_001, -1, -86_400.5, 1_582_934_400.999_999, 253_402_300_799.9,
            253_402_300_800, -12_219_292_800, -12_219_292_801, -62_135_596_800, -62_170_156_800, -210_866_760_000,
            -210_866_760_001, -1e12, 15_928_153_804_799, 15_928_153_804_800, 1e15, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, .infinity, -.infinity, .nan,
        ]
        for interval in intervals {
            try Self.expectSameAsFoundation(Date(timeIntervalSince1970: interval))
        }
        var dates: [Date] = []
        for _ in 0..<2000 {
            dates.append(Date(timeIntervalSince1970: Double.random(in: -4_000_000_000...4_000_000_000)))
            dates.append(Date(timeIntervalSince1970: Double.random(in: -220_000_000_000...16_000_000_000_000)))
            dates.append(Date(timeIntervalSince1970: Double(Int64.random(in: -400_000...400_000) * 86_400)))
        }
        try Self.expectSameAsFoundation(dates)
    }

    @Test("URL, UUID, Data and Decimal match JSONEncoder")
    func foundationTypes() throws {
        let urls = [
            "https://example.com/a b?c=d", "/relative/path", "mailto:someone@example.com", "https://例子.中国/路径",
        ].compactMap { URL(string: $0) }
        try Self.expectSameAsFoundation(urls)
        try Self.expectSameAsFoundation(URL(string: "page", relativeTo: URL(string: "https://example.com/base/")))
        try Self.expectSameAsFoundation(UUID())
        try Self.expectSameAsFoundation([Data(), Data([0, 1, 2, 250, 251, 255]), Data("接榜".utf8)])
        let decimals = ["12.50", "-0.000001", "0", "123456789012345678901234567890", "1e-20"].compactMap { Decimal(string: $0) }
        try Self.expectSameAsFoundation(decimals)
        for value in decimals {
            try Self.expectSameAsFoundation(
                Foundations(
                    data: Data([1, 2, 3]), date: Self.date("2026-01-01T00:00:00Z"), decimal: value,
                    url: URL(fileURLWithPath: "/tmp/a b"), uuid: UUID()))
        }
    }

    @Test("Enums with raw values and with associated values match JSONEncoder")
    func enums() throws {
        try Self.expectSameAsFoundation([Colour.red, .deepBlue])
        try Self.expectSameAsFoundation(Shape.circle(radius: 2))
        try Self.expectSameAsFoundation(Shape.rectangle(width: 3, height: 4.5), sameBytes: false)
        try Self.expectSameAsFoundation(Shape.labelled("标签", .deepBlue))
        try Self.expectSameAsFoundation(Shape.point)
        try Self.expectSameAsFoundation(
            [Shape.point, .circle(radius: 0.1), .rectangle(width: 1, height: 2), .labelled("", .red)], sameBytes: false)
        try Self.expectSameAsFoundation(["shape": Shape.circle(radius: -1)])
    }

    @Test("Classes encoding their superclass through superEncoder or the same encoder match JSONEncoder")
    func classes() throws {
        try Self.expectSameAsFoundation(Dog(breed: "柴犬"), sameBytes: false)
        try Self.expectSameAsFoundation([Dog(breed: "a"), Dog(breed: "b")], sameBytes: false)
        try Self.expectSameAsFoundation(Cat(lives: 9), sameBytes: false)
        try Self.expectSameAsFoundation(Wrapper(value: [Cat(lives: 1)]), sameBytes: false)
    }

    @Test("Hand-written nested containers, filled before their parent goes on, match JSONEncoder")
    func handmade() throws {
        try Self.expectSameAsFoundation(Handmade())
        try Self.expectSameAsFoundation([Handmade(), Handmade()])
    }

    @Test("Top-level scalars and null match JSONEncoder")
    func topLevel() throws {
        try Self.expectSameAsFoundation(42)
        try Self.expectSameAsFoundation("text")
        try Self.expectSameAsFoundation(true)
        try Self.expectSameAsFoundation(Int?.none)
        try Self.expectSameAsFoundation(Self.date("2026-11-27T09:00:00Z"))
    }

    // MARK: Exact output

    @Test("Object keys come out in declaration order, not sorted")
    func declarationOrder() throws {
        struct Unsorted: Encodable {
            var zeta = 1
            var alpha = "a"
            var middle = [2]
        }
        #expect(try Self.streaming(Unsorted()) == #"{"zeta":1,"alpha":"a","middle":[2]}"#)
    }

    @Test("Numbers, arrays and empty objects are written compactly")
    func compact() throws {
        struct Document: Encodable {
            var a = 1
            var b = [1, 2]
            var c = Empty()
            var d: [String: Int] = [:]
            var e: [Int] = []
        }
        #expect(try Self.streaming(Document()) == #"{"a":1,"b":[1,2],"c":{},"d":{},"e":[]}"#)
        #expect(try Self.streaming(Silent()) == "{}")
        #expect(try Self.streaming([3.0, -0.0, 0.1, 1e300, 1e-7]) == "[3,-0,0.1,1e+300,1e-07]")
    }

    @Test("encodeIfPresent leaves a nil out; encode of a nil optional and encodeNil write null")
    func nils() throws {
        struct Optionals: Encodable {
            enum CodingKeys: CodingKey { case present, absent, explicit, null }
            var present: Int? = 1
            var absent: Int?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encodeIfPresent(present, forKey: .present)
                try container.encodeIfPresent(absent, forKey: .absent)
                try container.encode(absent, forKey: .explicit)
                try container.encodeNil(forKey: .null)
            }
        }
        #expect(try Self.streaming(Optionals()) == #"{"present":1,"explicit":null,"null":null}"#)
        #expect(try Self.streaming(Person(age: nil, email: nil, name: "x")) == #"{"name":"x"}"#)
    }

    @Test("Strings escape quotes, backslashes and control characters, and keep slashes and non-ASCII text")
    func escaping() throws {
        #expect(
            try Self.streaming("\"\\/\u{8}\u{C}\n\r\t\u{0}\u{1F}中😀")
                == #""\"\\/\b\f\n\r\t\u0000\u001f中😀""#)
    }

    @Test("Dates are ISO 8601 in UTC with whole seconds")
    func dateText() throws {
        #expect(try Self.streaming(Date(timeIntervalSince1970: 1_795_770_000.75)) == #""2026-11-27T09:00:00Z""#)
        #expect(try Self.streaming(Date(timeIntervalSince1970: -0.25)) == #""1969-12-31T23:59:59Z""#)
        #expect(try Self.streaming(Self.date("1904-02-29T06:07:08Z")) == #""1904-02-29T06:07:08Z""#)
    }

    @Test("NaN and infinity throw EncodingError.invalidValue with the coding path")
    func nonFinite() throws {
        struct Values: Encodable { var values: [Double] }
        do {
            _ = try StreamingJSONEncoder().encode(Values(values: [1, .nan]))
            Issue.record("NaN was encoded")
        } catch EncodingError.invalidValue(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["values", "Index 1"])
            #expect(context.codingPath.last?.intValue == 1)
        }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder().encode(Float.infinity) }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder().encode(["a": -Double.infinity]) }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder().encode(Decimal.nan) }
    }

    @Test("A top-level value that encodes nothing throws, as with JSONEncoder")
    func nothingAtTopLevel() throws {
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder().encode(Nothing()) }
        #expect(throws: EncodingError.self) { try Self.foundationEncoder().encode(Nothing()) }
    }

    @Test("A nested container written to after its parent went on throws")
    func closedContainer() throws {
        struct Misused: Encodable {
            enum Keys: CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                var list = container.nestedUnkeyedContainer(forKey: .a)
                try container.encode(1, forKey: .b)
                try list.encode(2)
            }
        }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder().encode(Misused()) }
    }

    @Test("encode(_:into:) appends to a buffer")
    func intoBuffer() throws {
        var buffer = ByteBuffer(string: "prefix:")
        try StreamingJSONEncoder().encode(["a", "b"], into: &buffer)
        #expect(String(buffer: buffer) == #"prefix:["a","b"]"#)
    }

    @Test("As a response encoder it answers 200 with application/json; charset=utf-8 and the JSON")
    func response() async throws {
        struct View: ResponseEncodable {
            var name = "接榜"
            var at = Date(timeIntervalSince1970: 0)
        }
        struct Context: RequestContext {
            var coreContext: CoreRequestContextStorage
            init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
            var responseEncoder: StreamingJSONEncoder { StreamingJSONEncoder() }
        }
        let router = Router(context: Context.self)
        router.get("view") { _, _ in View() }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/view", method: .get) { response in
                let body = #"{"name":"接榜","at":"1970-01-01T00:00:00Z"}"#
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(response.headers[.contentLength] == String(body.utf8.count))
                #expect(String(buffer: response.body) == body)
            }
        }
    }
}

import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Binding and decoding values")
struct CodingTests {
    struct Payload: Codable, Sendable, Equatable {
        var name: String
        var tags: [String]
        var at: Date
    }

    @Test("Every supported type survives a round trip through the server")
    func roundTrips() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let id = UUID()
            let at = Date(timeIntervalSince1970: 1_764_000_000.123456)
            let payload = Payload(name: "稀土永磁", tags: ["氢能储运", "a\"b"], at: Date(timeIntervalSince1970: 1_700_000_000))
            let bytes = Data([0, 1, 2, 255])
            let row = try #require(
                try await db.query(
                    """
                    SELECT \(Int.max)::bigint, \(Int32.min)::integer, \(Int16(-7))::smallint, \(true), \("揭榜挂帅 ' ; DROP TABLE x")::text,
                           \(3.25)::float8, \(id)::uuid, \(at)::timestamptz, \(bytes)::bytea, \(PostgresJSON(payload))::jsonb,
                           \([1, 2, 3])::bigint[], \(["甲", "乙"])::text[], \([UUID]())::uuid[]
                    """
                ).first)
            let decoded = try row.decode(
                (Int, Int32, Int16, Bool, String, Double, UUID, Date, Data, PostgresJSON<Payload>, [Int], [String], [UUID]).self)
            #expect(decoded.0 == Int.max)
            #expect(decoded.1 == Int32.min)
            #expect(decoded.2 == -7)
            #expect(decoded.3 == true)
            #expect(decoded.4 == "揭榜挂帅 ' ; DROP TABLE x")
            #expect(decoded.5 == 3.25)
            #expect(decoded.6 == id)
            #expect(abs(decoded.7.timeIntervalSince(at)) < 0.000_001)
            #expect(decoded.8 == bytes)
            #expect(decoded.9.value == payload)
            #expect(decoded.10 == [1, 2, 3])
            #expect(decoded.11 == ["甲", "乙"])
            #expect(decoded.12.isEmpty)
        }
    }

    @Test("A fragment's parameters are renumbered after the ones before it, and bind the right values")
    func fragments() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let condition: PostgresQuery = "x.n > \(2) AND x.label <> \("甲")"
            let query: PostgresQuery = "SELECT \(10) + count(*) FROM (VALUES (1, '甲'), (3, '乙'), (12, '丙')) AS x(n, label) WHERE \(fragment: condition) AND x.n < \(100)"
            #expect(query.sql.contains("x.n > $2 AND x.label <> $3"))
            #expect(query.sql.hasSuffix("x.n < $4"))
            #expect(query.bindings.count == 4)
            let total = try await db.query(query).first!.decode(Int.self)
            #expect(total == 12)
            // Placeholders of two digits, text around them that is not ASCII, and a `$` that is no placeholder.
            let many: PostgresQuery = "'稀$土' IN (\("a"), \("b"), \("c"), \("d"), \("e"), \("f"), \("g"), \("h"), \("i"), \("j"), \("稀$土"))"
            #expect(many.sql.hasSuffix("$10, $11)"))
            let after: PostgresQuery = "SELECT \(1) + \(2) + \(3) AS n, \(fragment: many) AS found"
            #expect(after.sql == "SELECT $1 + $2 + $3 AS n, '稀$土' IN ($4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) AS found")
            let row = try await db.query(after).first!.decode((Int, Bool).self)
            #expect(row.0 == 6 && row.1)
        }
    }

    @Test("Dates PostgreSQL writes into JSON, with microseconds, decode")
    func jsonDatesFromServer() async throws {
        struct Stamp: Codable, Sendable { var at: Date }
        try await TestDatabase.withEmptyDatabase { db in
            let row = try #require(try await db.query("SELECT jsonb_build_object('at', '2025-05-31T09:30:00.123456+08:00'::timestamptz)").first)
            let stamp = try row.decode(PostgresJSON<Stamp>.self).value
            #expect(abs(stamp.at.timeIntervalSince1970 - 1_748_655_000.123456) < 0.001)
        }
    }

    @Test("NULL decodes into optionals, and nil binds as NULL")
    func nulls() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let missing: Int? = nil
            let row = try #require(try await db.query("SELECT \(missing), \(Optional("x")), ARRAY[1, NULL]::int[]").first)
            let (a, b, c) = try row.decode((Int?, String?, [Int?]).self)
            #expect(a == nil)
            #expect(b == "x")
            #expect(c == [1, nil])
        }
    }

    @Test("Numeric values decode as text, integers and doubles")
    func numerics() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let row = try #require(
                try await db.query("SELECT 12345678901234.5678::numeric, -0.05::numeric, sum(x) FROM (VALUES (500000000), (1)) v(x)").first)
            let (text, small, sum) = try row.decode((String, Double, Int).self)
            #expect(text == "12345678901234.5678")
            #expect(small == -0.05)
            #expect(sum == 500_000_001)
        }
    }

    @Test("A decoding error names the column and the Swift type asked for")
    func decodingErrorNamesColumn() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let row = try #require(try await db.query("SELECT 1 AS id, 'x'::text AS unit_name, NULL::int AS region").first)
            do {
                _ = try row.decode((Int, Int, Int).self)
                Issue.record("decoding text as Int succeeded")
            } catch let error as PostgresDecodingError {
                #expect(error.column == "unit_name")
                #expect(error.expectedType == "Int")
                #expect("\(error)".contains("unit_name"))
            }
            #expect(throws: PostgresDecodingError.self) { _ = try row.decode(Int.self, column: "region") }
            #expect(try row.decode(Int?.self, column: "region") == nil)
            #expect(throws: PostgresDecodingError.self) { _ = try row.decode(Int16.self, column: "nope") }
        }
    }

    @Test("An integer that does not fit the narrower Swift type is refused")
    func narrowing() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let row = try #require(try await db.query("SELECT 70000::int").first)
            #expect(throws: PostgresDecodingError.self) { _ = try row.decode(Int16.self) }
            #expect(try row.decode(Int32.self) == 70000)
        }
    }

    @Test("Interpolated values are bound, never spliced into the SQL text")
    func bindsNotSplices() async throws {
        let hostile = "x'); DROP TABLE units; --"
        let query: PostgresQuery = "SELECT \(hostile)::text, \(42)"
        #expect(query.sql == "SELECT $1::text, $2")
        #expect(query.bindings.count == 2)
        #expect(!query.description.contains("DROP"))
    }
}

import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Dates outside PostgreSQL's range")
struct DateRangeTests {
    @Test(
        "A date PostgreSQL cannot store, or NaN, is refused by the server with 22008 instead of trapping or becoming infinity",
        arguments: [-1e300, -300_000_000_000_000_000.1, -210_866_803_201, 9_224_318_016_000, 1e20, Double.nan, .infinity])
    func outOfRange(secondsSince1970: Double) async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let date = Date(timeIntervalSince1970: secondsSince1970)
            do {
                let stored = try await db.query("SELECT \(date)::text").first?.decode(String.self)
                Issue.record("a date out of range was stored as \(stored ?? "nothing")")
            } catch let error as PostgresError {
                #expect(error.sqlState?.code == "22008")
            }
        }
    }

    @Test("The first and last days of PostgreSQL's range are stored as they are")
    func edges() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let first = Date(timeIntervalSince1970: -210_866_803_200)
            let last = Date(timeIntervalSince1970: 9_224_318_015_999)
            let texts = try await db.query("SELECT \(first)::text, \(last)::text, \(first) = '4714-11-24 00:00:00+00 BC'::timestamptz")
                .first?.decode((String, String, Bool).self)
            #expect(texts?.2 == true)
            #expect(texts?.1.hasPrefix("294276-12-31") == true)
        }
    }
}

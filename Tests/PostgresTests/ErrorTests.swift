import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Errors")
struct ErrorTests {
    @Test("A unique violation carries SQLSTATE, constraint, table and detail")
    func uniqueViolation() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await db.execute("CREATE TABLE units (id bigint PRIMARY KEY, credit_code text CONSTRAINT units_credit_code_key UNIQUE)")
            try await db.execute("INSERT INTO units VALUES (1, \("91620100MA74X1234X"))")
            do {
                try await db.execute("INSERT INTO units VALUES (2, \("91620100MA74X1234X"))")
                Issue.record("duplicate insert succeeded")
            } catch let error as PostgresError {
                #expect(error.code == .server)
                #expect(error.sqlState == .uniqueViolation)
                #expect(error.constraint == "units_credit_code_key")
                #expect(error.table == "units")
                #expect(error.detail?.contains("already exists") == true)
                #expect(error.query?.contains("INSERT INTO units") == true)
            }
        }
    }

    @Test(
        "Out of memory, a configuration limit, a serialization failure and a deadlock raised by the server are unavailability (503), a unique violation is not",
        arguments: [("53200", true), ("53400", true), ("40001", true), ("40P01", true), ("53300", true), ("23505", false)])
    func unavailability(state: String, unavailable: Bool) async throws {
        try await TestDatabase.withEmptyDatabase { db in
            do {
                try await db.execute(
                    PostgresQuery(unsafeSQL: "DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '\(state)'; END $$"))
                Issue.record("the DO block succeeded")
            } catch let error as PostgresError {
                #expect(error.sqlState?.code == state)
                #expect(error.isUnavailable == unavailable)
            }
        }
    }

    @Test("A check and a not-null violation name their constraint and column")
    func checkAndNotNull() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await db.execute(
                "CREATE TABLE bids (id bigint PRIMARY KEY, fen bigint NOT NULL CONSTRAINT bids_fen_positive CHECK (fen > 0))")
            await #expect {
                try await db.execute("INSERT INTO bids VALUES (1, -5)")
            } throws: { error in
                let error = error as? PostgresError
                return error?.sqlState == .checkViolation && error?.constraint == "bids_fen_positive"
            }
            await #expect {
                try await db.execute("INSERT INTO bids VALUES (1, NULL)")
            } throws: { error in
                let error = error as? PostgresError
                return error?.sqlState == .notNullViolation && error?.column == "fen"
            }
        }
    }

    @Test("A bad connection string fails with a one-line connection error")
    func badConnectionString() async throws {
        let client = PostgresClient(
            configuration: PostgresConfiguration(connectionString: "host=/nonexistent/socket-folder port=1", minimumConnections: 0))
        await #expect {
            _ = try await client.query("SELECT 1")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .connectionFailed && !error.message.contains("\n") && error.message.contains("/nonexistent/socket-folder")
        }
        await client.close()
    }

    @Test("A syntax error is a server error with SQLSTATE 42601 and the pool stays usable")
    func syntaxError() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            await #expect {
                try await db.execute("SELEC 1")
            } throws: { ($0 as? PostgresError)?.sqlState == SQLState("42601") }
            let seven = try await db.query("SELECT 7").first?.decode(Int.self)
            #expect(seven == 7)
        }
    }
}

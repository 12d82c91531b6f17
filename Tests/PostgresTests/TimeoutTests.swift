import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Statement, lock and idle-transaction timeouts")
struct TimeoutTests {
    /// Runs `body` with a second pool on the database `db` serves, configured by `configure`.
    static func withClient<Result: Sendable>(
        on db: PostgresClient, _ configure: (inout PostgresConfiguration) -> Void,
        _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let name = try await db.query("SELECT current_database()").first!.decode(String.self)
        var configuration = try await TestDatabase.configuration(database: name, maximumConnections: 1)
        configure(&configuration)
        let client = PostgresClient(configuration: configuration)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    @Test("Every session starts with the configured timeouts, and the defaults hold when none is configured")
    func sessionsStartWithTimeouts() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let defaults = try await db.query(
                """
                SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),
                       current_setting('idle_in_transaction_session_timeout')
                """
            ).first!.decode((String, String, String).self)
            #expect(defaults == ("30s", "10s", "1min"))
            let configured = try await Self.withClient(on: db) {
                $0.statementTimeout = .milliseconds(1500)
                $0.lockTimeout = nil
                $0.idleInTransactionTimeout = .zero
            } _: { client in
                try await client.query(
                    """
                    SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),
                           current_setting('idle_in_transaction_session_timeout')
                    """
                ).first!.decode((String, String, String).self)
            }
            #expect(configured == ("1500ms", "0", "0"))
        }
    }

    @Test("A connection string's own options win over the default timeouts, which still apply to the rest")
    func connectionStringOptionsWin() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let server = try await TestDatabase.serverConnectionString()
            var configuration = PostgresConfiguration(
                connectionString: server + " options='-c lock_timeout=1234 -c work_mem=5MB'", minimumConnections: 0,
                maximumConnections: 1)
            configuration.databaseName = name
            let client = PostgresClient(configuration: configuration)
            let settings = try await client.query(
                "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), current_setting('work_mem')"
            ).first!.decode((String, String, String).self)
            await client.close()
            #expect(settings == ("1234ms", "30s", "5MB"))
        }
    }

    @Test("A statement past the statement timeout fails with 57014, reads as unavailable, and the connection stays usable")
    func statementTimeout() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await Self.withClient(on: db, { $0.statementTimeout = .milliseconds(200) }) { client in
                let started = ContinuousClock.now
                await #expect {
                    try await client.execute("SELECT pg_sleep(60)")
                } throws: { error in
                    let error = error as? PostgresError
                    return error?.sqlState?.code == "57014" && error?.isUnavailable == true
                }
                // Cut by the timeout, not by the minute of sleep (the bound is loose for a loaded machine).
                #expect(ContinuousClock.now - started < .seconds(30))
                let one = try await client.query("SELECT 1").first?.decode(Int.self)
                #expect(one == 1)
                #expect(client.statistics.open == 1)
            }
        }
    }

    @Test("A statement waiting for a row lock past the lock timeout fails with 55P03 while the holder keeps its lock")
    func lockTimeout() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await db.execute("CREATE TABLE bids (id bigint PRIMARY KEY, status text)")
            try await db.execute("INSERT INTO bids VALUES (1, 'draft')")
            try await Self.withClient(on: db, { $0.lockTimeout = .milliseconds(200) }) { client in
                try await db.withTransaction { holder in
                    try await holder.execute("SELECT * FROM bids WHERE id = 1 FOR UPDATE")
                    let started = ContinuousClock.now
                    await #expect {
                        try await client.execute("UPDATE bids SET status = 'submitted' WHERE id = 1")
                    } throws: { error in
                        let error = error as? PostgresError
                        return error?.sqlState?.code == "55P03" && error?.isUnavailable == true
                    }
                    #expect(ContinuousClock.now - started < .seconds(30))
                }
                let updated = try await client.execute("UPDATE bids SET status = 'submitted' WHERE id = 1")
                #expect(updated == 1)
            }
        }
    }

    @Test("A session idle in a transaction past its timeout is ended by the server, and the pool replaces its connection")
    func idleInTransactionTimeout() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await db.execute("CREATE TABLE bids (id bigint PRIMARY KEY)")
            try await Self.withClient(on: db, { $0.idleInTransactionTimeout = .milliseconds(200) }) { client in
                await #expect {
                    try await client.withTransaction { tx in
                        try await tx.execute("INSERT INTO bids VALUES (1)")
                        try await Task.sleep(for: .milliseconds(800))
                        try await tx.execute("INSERT INTO bids VALUES (2)")
                    }
                } throws: { ($0 as? PostgresError)?.isUnavailable == true }
                // The lock and the rows of the ended session are gone; the next lease gets a working connection.
                let count = try await client.query("SELECT count(*) FROM bids").first?.decode(Int.self)
                #expect(count == 0)
            }
        }
    }
}

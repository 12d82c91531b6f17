import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Parameters and results larger than the socket's buffers")
struct LargeParameterTests {
    static let size = 20 * 1024 * 1024

    static func bytes(_ count: Int) -> Data {
        var bytes = [UInt8](repeating: 0, count: count)
        for index in stride(from: 0, to: count, by: 4096) { bytes[index] = UInt8(truncatingIfNeeded: index / 4096) }
        return Data(bytes)
    }

    @Test("A 20 MiB parameter is sent whole and its result read whole", .timeLimit(.minutes(1)))
    func largeParameter() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let data = Self.bytes(Self.size)
            let length = try await db.query("SELECT length(\(data)::bytea)").first!.decode(Int.self)
            #expect(length == Self.size)
            let echoed = try await db.query("SELECT \(data)::bytea").first!.decode(Data.self)
            #expect(echoed == data)
        }
    }

    @Test("A 20 MiB parameter goes through a pipeline: the transaction's BEGIN and its first statement, and commit(after:)", .timeLimit(.minutes(1)))
    func largeParameterInPipeline() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await db.execute("CREATE TABLE attachments (id bigint PRIMARY KEY, data bytea NOT NULL)")
            let data = Self.bytes(Self.size)
            try await db.withTransaction { tx in
                try await tx.execute("INSERT INTO attachments VALUES (1, \(data))")
                _ = try await tx.commit(after: "INSERT INTO attachments VALUES (2, \(data))")
            }
            let lengths = try await db.query("SELECT length(data) FROM attachments ORDER BY id").decode(Int.self)
            #expect(lengths == [Self.size, Self.size])
        }
    }
}

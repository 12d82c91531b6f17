import Crypto
public import Foundation
public import Postgres

/// The audit log as a hash chain: sealed in batches after commit, verified from the rows themselves.
///
/// Each sealed entry has a place `seq` and `hash = SHA-256(previous hash ‖ SHA-256(canonical entry))`,
/// the first entry's previous hash being 32 zero bytes. The canonical entry is its id, its time in
/// microseconds since 1970, its actor, action, entity and the text of its before and after states,
/// each written with its length, so no two entries share one. Sealing runs in a job, never on the write
/// path, so the chain is no lock on requests; entries not sealed yet are the chain's tail, which
/// verification lists.
public enum AuditChain {
    /// The chain's last link.
    public struct Head: Sendable, Hashable, CustomStringConvertible {
        /// How many entries are sealed.
        public var seq: Int
        /// The last hash, in hex.
        public var hash: String

        /// `seq:hash`, as printed on notices.
        public var description: String { "\(seq):\(hash)" }
    }

    /// What verification found.
    public struct Report: Sendable, Hashable {
        /// The head recomputed from the rows (the stored one when they agree).
        public var head: Head
        /// Sealed entries checked.
        public var sealed: Int
        /// Entries not sealed yet (committed recently, or while no sealer ran).
        public var unsealed: Int
        /// The first fault, naming the entry; nil when the chain holds.
        public var problem: String?

        /// Whether the chain holds.
        public var holds: Bool { problem == nil }
    }

    /// SQL giving the stored head as `seq:hash` (`0:000…` before anything is sealed), for notices to keep.
    public static let headSQL =
        "(SELECT coalesce((SELECT seq || ':' || encode(hash, 'hex') FROM audit_seals ORDER BY seq DESC LIMIT 1), '0:' || repeat('0', 64)))"

    /// The hash before the first entry.
    static let genesis = [UInt8](repeating: 0, count: 32)

    /// The columns of an entry in canonical form, all as text (the time as whole microseconds since 1970,
    /// exact, whatever the session's time zone).
    static let canonicalColumns = """
        a.id::text, ((extract(epoch FROM a.at) * 1000000)::bigint)::text, a.actor_id::text, a.actor_label, a.action, \
        a.entity, a.entity_id, a.before::text, a.after::text
        """

    /// The digest of an entry's canonical content: each field as `<byte length>:<bytes>`, a null as `-`.
    static func entryDigest(_ fields: [String?]) -> [UInt8] {
        var hasher = SHA256()
        for field in fields {
            if let field {
                let bytes = Array(field.utf8)
                hasher.update(data: Array("\(bytes.count):".utf8))
                hasher.update(data: bytes)
            } else {
                hasher.update(data: Array("-".utf8))
            }
        }
        return Array(hasher.finalize())
    }

    /// The link after `previous` for an entry with `digest`.
    static func link(_ previous: [UInt8], _ digest: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: digest)
        return Array(hasher.finalize())
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The stored head (seq 0 and the zero hash before anything is sealed).
    public static func head(on db: PostgresConnection) async throws -> Head {
        guard let row = try await db.query("SELECT seq, hash FROM audit_seals ORDER BY seq DESC LIMIT 1").first else {
            return Head(seq: 0, hash: hex(genesis))
        }
        let (seq, hash) = try row.decode((Int, Data).self)
        return Head(seq: seq, hash: hex(Array(hash)))
    }

    /// Seals up to `limit` committed entries, oldest id first, after the chain's head; sealers queue on
    /// an advisory lock, writers never wait. Run it in its own transaction.
    /// - Returns: how many entries were sealed.
    @discardableResult
    public static func seal(limit: Int = 5_000, on tx: PostgresConnection) async throws -> Int {
        try await tx.execute("SELECT pg_advisory_xact_lock(hashtext('jiebang.audit_chain'))")
        var (seq, previous) = (0, genesis)
        if let row = try await tx.query("SELECT seq, hash FROM audit_seals ORDER BY seq DESC LIMIT 1").first {
            let (last, hash) = try row.decode((Int, Data).self)
            (seq, previous) = (last, Array(hash))
        }
        let floor = try await lowWater(settle: .seconds(3_600), on: tx)
        let rows = try await tx.query(
            """
            SELECT \(unsafeRaw: canonicalColumns) FROM audit_log a
            WHERE a.id > \(floor ?? Int.min) AND NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.audit_id = a.id)
            ORDER BY a.id LIMIT \(limit)
            """)
        var seqs: [Int] = []
        var ids: [Int] = []
        var hashes: [Data] = []
        for row in rows {
            let fields = try (0..<9).map { try row.decode(String?.self, at: $0) }
            previous = link(previous, entryDigest(fields))
            seq += 1
            seqs.append(seq)
            ids.append(Int(fields[0]!)!)
            hashes.append(Data(previous))
        }
        guard !seqs.isEmpty else { return 0 }
        try await tx.execute(
            "INSERT INTO audit_seals (seq, audit_id, hash) SELECT * FROM unnest(\(seqs)::bigint[], \(ids)::bigint[], \(hashes)::bytea[])")
        return seqs.count
    }

    /// The highest audit id below which every entry must be sealed: the largest id among seals made more
    /// than `settle` ago (a transaction holding an older id uncommitted for that long is not expected);
    /// nil while no seal is that old.
    static func lowWater(settle: Duration, on db: PostgresConnection) async throws -> Int? {
        try await db.query(
            """
            SELECT max(audit_id) FROM (
                SELECT audit_id FROM audit_seals
                WHERE sealed_at < now() - \(Int(settle.components.seconds)) * interval '1 second'
                ORDER BY seq DESC LIMIT 10000) recent
            """
        ).first!.decode(Int?.self)
    }

    /// Recomputes the chain from the rows, in batches, and names the first fault: an entry edited or
    /// reordered (its hash differs), deleted (its seal finds no entry, or a seal is missing), or inserted
    /// (an unsealed entry where everything is sealed).
    /// - Parameters:
    ///   - settle: how old a seal must be before unsealed entries below it count as inserted.
    public static func verify(settle: Duration = .seconds(3_600), on db: PostgresConnection) async throws -> Report {
        var previous = genesis
        var expected = 1
        var problem: String?
        var lastSeq = 0
        scan: while true {
            let rows = try await db.query(
                """
                SELECT s.seq, s.audit_id, s.hash, a.id IS NOT NULL, \(unsafeRaw: canonicalColumns)
                FROM audit_seals s LEFT JOIN audit_log a ON a.id = s.audit_id
                WHERE s.seq >= \(expected) ORDER BY s.seq LIMIT 10000
                """)
            var count = 0
            for row in rows {
                count += 1
                let seq = try row.decode(Int.self, at: 0)
                let auditID = try row.decode(Int.self, at: 1)
                let stored = Array(try row.decode(Data.self, at: 2))
                guard seq == expected else {
                    problem = "seal \(expected) is missing (the chain jumps to \(seq)): entries were removed"
                    break scan
                }
                guard try row.decode(Bool.self, at: 3) else {
                    problem = "audit entry \(auditID) (seal \(seq)) was deleted"
                    break scan
                }
                let fields = try (4..<13).map { try row.decode(String?.self, at: $0) }
                let hash = link(previous, entryDigest(fields))
                guard hash == stored else {
                    problem = "audit entry \(auditID) (seal \(seq)) was edited, or entries were reordered or inserted before it"
                    break scan
                }
                previous = hash
                lastSeq = seq
                expected += 1
            }
            if count < 10000 { break }
        }
        let head = Head(seq: lastSeq, hash: hex(previous))
        let floor = try await lowWater(settle: settle, on: db)
        let unsealed = try await db.query(
            """
            SELECT count(*), min(a.id) FILTER (WHERE a.id <= \(floor)) FROM audit_log a
            WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.audit_id = a.id)
            """
        ).first!.decode((Int, Int?).self)
        if problem == nil, let inserted = unsealed.1 {
            problem = "audit entry \(inserted) is not in the chain though entries after it were sealed long ago: it was inserted"
        }
        return Report(head: head, sealed: lastSeq, unsealed: unsealed.0, problem: problem)
    }
}

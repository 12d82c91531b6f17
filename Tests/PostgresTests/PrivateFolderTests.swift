import Foundation
import Testing

@testable import Postgres

@Suite("Private fallback folders")
struct PrivateFolderTests {
    static func scratch() -> String {
        "/tmp/jiebang-private-test-\(UUID().uuidString.prefix(8))"
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    static func nobody() -> (uid: uid_t, gid: gid_t)? {
        guard let entry = getpwnam("nobody") else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    @Test("A new fallback folder is made readable by its owner only")
    func createdPrivate() throws {
        let path = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PrivateFolder.ensure(path)
        #expect(try Self.mode(path) == 0o700)
        // Using it again is fine: it is ours and private.
        try PrivateFolder.ensure(path)
    }

    @Test("A folder made first by another user is refused, naming the owner")
    func otherOwnerRefused() throws {
        let path = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard geteuid() == 0, let nobody = Self.nobody() else { return }
        #expect(mkdir(path, 0o755) == 0)
        #expect(chown(path, nobody.uid, nobody.gid) == 0)
        let error = #expect(throws: PostgresCluster.Failure.self) { try PrivateFolder.ensure(path) }
        #expect(error?.description.contains("belongs to another user (uid \(nobody.uid))") == true)
    }

    @Test("A link planted where the folder goes is refused, and so is a folder anyone may write in")
    func linkAndOpenFolderRefused() throws {
        let link = Self.scratch()
        let target = Self.scratch()
        defer {
            try? FileManager.default.removeItem(atPath: link)
            try? FileManager.default.removeItem(atPath: target)
        }
        #expect(mkdir(target, 0o700) == 0)
        #expect(symlink(target, link) == 0)
        let linkError = #expect(throws: PostgresCluster.Failure.self) { try PrivateFolder.ensure(link) }
        #expect(linkError?.description.contains("not a folder") == true)

        #expect(chmod(target, 0o777) == 0)
        let openError = #expect(throws: PostgresCluster.Failure.self) { try PrivateFolder.ensure(target) }
        #expect(openError?.description.contains("others may write in it") == true)
    }

    @Test("A cluster whose socket folder falls back to /tmp refuses a squatted socket folder before it creates anything")
    func clusterRefusesSquattedSocketFolder() async throws {
        guard geteuid() == 0, let nobody = Self.nobody() else { return }
        let base = FileManager.default.temporaryDirectory.appending(
            path: "jiebang-long-\(UUID().uuidString)/" + String(repeating: "d", count: 80))
        defer { try? FileManager.default.removeItem(at: base.deletingLastPathComponent()) }
        var configuration = PostgresCluster.Configuration(directory: base)
        configuration.durable = false
        let cluster = try PostgresCluster(configuration: configuration)
        let socket = cluster.socketDirectory.path
        #expect(socket.hasPrefix("/tmp/jiebang-socket-"))
        try? FileManager.default.removeItem(atPath: socket)
        defer { try? FileManager.default.removeItem(atPath: socket) }
        #expect(mkdir(socket, 0o777) == 0)
        #expect(chown(socket, nobody.uid, nobody.gid) == 0)
        let error = await #expect(throws: PostgresCluster.Failure.self) { try await cluster.start() }
        #expect(error?.description.contains("refusing \(socket)") == true)
        #expect(!FileManager.default.fileExists(atPath: cluster.dataDirectory.appending(path: "PG_VERSION").path))
    }
}

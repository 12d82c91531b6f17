public import Foundation
import Logging

/// One process's use of an embedded `PostgresCluster`, registered in the cluster's folder so that the
/// cluster stops only when its last user is done.
///
/// Each use is a file `<directory>/users/<pid>-<process start time>-<random>`. Registering, releasing
/// and starting or stopping the server all happen under the cluster's file lock (`<directory>/.lock`),
/// so two processes that start at the same moment start the server once: the second waits for the
/// lock and finds it running. A use whose process is gone (killed, crashed) no longer counts: its pid
/// is checked in `/proc`, with the process's start time, so a pid reused by another program does not
/// count either, and its file is removed by the next process that takes the lock.
///
/// The last user stops the server only if a user started it (the marker file
/// `<directory>/started-for-users`); a cluster started with `start()` (`jiebang db start`) or
/// by hand keeps running until `stop()`.
public struct PostgresClusterUse: Sendable {
    /// The cluster in use.
    public let cluster: PostgresCluster
    let file: URL

    /// Registers this process as a user of `cluster`, creating and starting it if needed.
    /// - Returns: the use, to `release()` when the process is done with the database.
    /// - Throws: `PostgresCluster.Failure` when the cluster cannot be started or the registry written.
    public static func attach(to cluster: PostgresCluster) async throws -> PostgresClusterUse {
        try await cluster.withLock {
            let folder = cluster.usersDirectory
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            _ = pruneUsers(in: folder)
            if try await cluster.startHoldingLock() {
                try Data().write(to: cluster.startedForUsersMarker)
            }
            let me = ProcessIdentity.current
            let file = folder.appending(path: "\(me.pid)-\(me.startTime)-\(UInt32.random(in: 0...UInt32.max))")
            do {
                try Data().write(to: file)
            } catch {
                throw PostgresCluster.Failure(description: "cannot register a user of the cluster in \(folder.path): \(error)")
            }
            return PostgresClusterUse(cluster: cluster, file: file)
        }
    }

    /// Unregisters this use; when no other live process uses the cluster and a user started it, stops it.
    /// - Returns: whether this call stopped the server.
    /// - Throws: `PostgresCluster.Failure` when `pg_ctl stop` fails.
    @discardableResult
    public func release() throws -> Bool {
        let lock = try FileLock(path: cluster.directory.appending(path: ".lock").path)
        defer { lock.unlock() }
        try? FileManager.default.removeItem(at: file)
        let others = Self.pruneUsers(in: cluster.usersDirectory)
        guard others == 0, FileManager.default.fileExists(atPath: cluster.startedForUsersMarker.path) else {
            cluster.logger.info(
                "left PostgreSQL running: other processes use it, or it was started by hand",
                metadata: ["directory": "\(cluster.directory.path)", "users": "\(others)"])
            return false
        }
        try cluster.stopHoldingLock()
        try? FileManager.default.removeItem(at: cluster.startedForUsersMarker)
        return true
    }

    /// The processes registered in `folder` that still run; the files of those gone are removed.
    /// - Returns: how many live uses remain.
    static func pruneUsers(in folder: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var live = 0
        for name in names {
            let parts = name.split(separator: "-")
            if parts.count == 3, let pid = Int32(parts[0]), let startTime = UInt64(parts[1]),
                ProcessIdentity(pid: pid)?.startTime == startTime
            {
                live += 1
            } else {
                try? FileManager.default.removeItem(at: folder.appending(path: name))
            }
        }
        return live
    }
}

/// A process as `/proc` knows it: its pid and start time (clock ticks since boot), which together
/// name one process even when the pid is reused.
struct ProcessIdentity: Equatable {
    let pid: Int32
    let startTime: UInt64

    /// This process.
    static var current: ProcessIdentity {
        ProcessIdentity(pid: getpid()) ?? ProcessIdentity(pid: getpid(), startTime: 0)
    }

    init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// The live process `pid`, or nil when there is none (or only a zombie).
    init?(pid: Int32) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After the command name: state (field 3) ... starttime (field 22).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X", let startTime = UInt64(fields[19]) else { return nil }
        self.pid = pid
        self.startTime = startTime
    }
}

extension PostgresCluster {
    /// The folder of the registered uses (`PostgresClusterUse`).
    var usersDirectory: URL { directory.appending(path: "users") }

    /// Present while the server runs because a user started it, so that the last user stops it.
    var startedForUsersMarker: URL { directory.appending(path: "started-for-users") }
}

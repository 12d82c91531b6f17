#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A folder in a shared place (`/tmp`, `/var/tmp`) that only this process's user (and, when it runs
/// as root, the `postgres` OS user) may own: created exclusively with mode 0700, and when it exists
/// already, used only if it is a real folder (not a link), owned by one of those users and not
/// writable by anyone else.
///
/// The embedded cluster's fallback folders have predictable names, so another local user could make
/// one first and wait for our socket or data to land in it; this refuses such a folder.
enum PrivateFolder {
    /// Creates `path` (its parent must exist) or checks the one that is there.
    /// - Throws: `PostgresCluster.Failure` naming the folder and why it is refused.
    static func ensure(_ path: String) throws {
        if mkdir(path, 0o700) == 0 { return }
        let code = errno
        guard code == EEXIST else {
            throw PostgresCluster.Failure(description: "cannot create folder \(path): \(String(cString: strerror(code)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw PostgresCluster.Failure(description: "cannot inspect folder \(path): \(String(cString: strerror(errno)))")
        }
        try check(path, info: info)
    }

    /// Why an existing folder may not be used, as an error; nothing when it may.
    static func check(_ path: String, info: stat) throws {
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw PostgresCluster.Failure(description: "refusing \(path): it exists and is not a folder (a link or a file)")
        }
        guard allowedOwners.contains(info.st_uid) else {
            throw PostgresCluster.Failure(
                description: "refusing \(path): it belongs to another user (uid \(info.st_uid)); remove it or choose another data folder")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw PostgresCluster.Failure(
                description: "refusing \(path): others may write in it (mode \(String(info.st_mode & 0o7777, radix: 8)))")
        }
    }

    /// The users a private folder may belong to: ours, and `postgres` when we run as root.
    static var allowedOwners: Set<uid_t> {
        var owners: Set<uid_t> = [geteuid()]
        if geteuid() == 0, let entry = getpwnam("postgres") { owners.insert(entry.pointee.pw_uid) }
        return owners
    }
}

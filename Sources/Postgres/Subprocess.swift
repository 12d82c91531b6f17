import CLibPQ
import Foundation

/// Runs a program to completion with `posix_spawn` and `waitpid`, collecting
/// its standard output and error together.
///
/// Foundation's `Process.waitUntilExit` can hang on Linux when the child forks
/// a daemon (as `pg_ctl start` does), so the cluster uses this instead.
enum Subprocess {
    /// The exit status and combined output of a finished program.
    struct Outcome {
        var status: Int32
        var output: String
    }

    /// Runs `executable` with `arguments`, with standard input from /dev/null.
    static func run(_ executable: String, _ arguments: [String]) throws -> Outcome {
        var pipeEnds: [Int32] = [-1, -1]
        // Close-on-exec: a program spawned at the same time by another thread (a second cluster's
        // pg_ctl, whose server then lives on) must not inherit this pipe, or its read never ends.
        // The child's own copies on 1 and 2 come from dup2, which clears the flag.
        guard jiebang_pipe_cloexec(&pipeEnds) == 0 else { throw PostgresCluster.Failure(description: "pipe failed: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        // Nothing else of this process is inherited: `pg_ctl start` leaves the server running, and a
        // descriptor the server held would outlive this process (a socket, a lock, or the one by which
        // a parent's Foundation `Process` learns that this process exited).
        jiebang_spawn_close_from(&actions, 3)
        // The calling thread may block signals (Dispatch's threads do); the child must not inherit
        // that, or a program that waits for SIGALRM (pgbench -T) never ends.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            throw PostgresCluster.Failure(description: "cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        // Read until every writer has closed the pipe. pg_ctl's server redirects its output to
        // its log file, so it does not hold the pipe open.
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(pipeEnds[0], &buffer, buffer.count)
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(pipeEnds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: exitStatus, output: String(decoding: output, as: UTF8.self))
    }
}

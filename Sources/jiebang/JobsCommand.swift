import ArgumentParser
import Foundation
import JobQueue
import Postgres

/// `jiebang jobs list|show|retry|cancel|stats`: the operator's view of the job queue.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Inspect, retry and cancel background jobs.",
        subcommands: [List.self, Show.self, Retry.self, Cancel.self, Discard.self, Stats.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")
        @OptionGroup var database: DatabaseOptions

        @Option(name: .long, help: "Only jobs in this state (\(JobsCommand.stateNames)).")
        var state: String?

        @Option(name: .long, help: "Only jobs of this kind.")
        var kind: String?

        @Option(name: .long, help: "Only jobs on this queue.")
        var queue: String?

        @Option(name: .long, help: "Only jobs with a lower id (the last id of the previous page).")
        var after: Int?

        @Option(name: .long, help: "The most jobs to print (1-1000).")
        var limit = 50

        func run() async throws {
            let stateFilter = try state.map(JobsCommand.parseState)
            guard (1...1000).contains(limit) else {
                throw CommandFailure("--limit: \(limit) is not in 1-1000")
            }
            let jobs = try await JobsCommand.withConnection(database) { db in
                try await JobStore.list(
                    state: stateFilter, kind: kind, queue: queue, afterID: after, limit: limit, on: db)
            }
            guard let last = jobs.last else {
                print("No jobs.")
                return
            }
            JobsCommand.printTable(
                header: ["ID", "STATE", "KIND", "QUEUE", "PRI", "ATTEMPT", "RUN AT", "FINISHED AT", "LAST ERROR"],
                rows: jobs.map { job in
                    [
                        String(job.id), job.state.rawValue, job.kind, job.queue, String(job.priority),
                        "\(job.attempt)/\(job.maxAttempts)", JobsCommand.format(job.runAt),
                        JobsCommand.format(job.finishedAt), JobsCommand.oneLine(job.lastError ?? "-", limit: 60),
                    ]
                })
            if jobs.count == limit {
                print("More may follow: --after \(last.id)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print everything stored about one job.")
        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The job's id.")
        var id: Int

        func run() async throws {
            let found = try await JobsCommand.withConnection(database) { db in
                try await JobStore.detail(id: id, on: db)
            }
            guard let job = found else { throw CommandFailure("no job has id \(id)") }
            let fields: [(String, String)] = [
                ("id", String(job.id)),
                ("kind", job.kind),
                ("queue", job.queue),
                ("state", job.state.rawValue),
                ("priority", String(job.priority)),
                ("attempt", "\(job.attempt) of \(job.maxAttempts)"),
                ("run at", JobsCommand.format(job.runAt)),
                ("created at", JobsCommand.format(job.createdAt)),
                ("attempted at", JobsCommand.format(job.attemptedAt)),
                ("finished at", JobsCommand.format(job.finishedAt)),
                ("lease owner", job.leaseOwner ?? "-"),
                ("lease expires at", JobsCommand.format(job.leaseExpiresAt)),
                ("timeout", job.timeout.map { "\(Int($0 / .milliseconds(1))) ms" } ?? "-"),
                ("unique key", job.uniqueKey ?? "-"),
                ("unique states", job.uniqueStates.isEmpty ? "-" : job.uniqueStates.map(\.rawValue).joined(separator: ", ")),
                ("cancel requested", job.cancelRequested ? "yes" : "no"),
                ("args", job.arguments),
                ("errors", job.errors.isEmpty ? "none" : String(job.errors.count)),
            ]
            let width = fields.map(\.0.count).max() ?? 0
            for (key, value) in fields {
                print("\((key + ":").padding(toLength: width + 2, withPad: " ", startingAt: 0))\(value)")
            }
            for error in job.errors {
                let message = JobsCommand.oneLine(error.message, limit: nil)
                print("  attempt \(error.attempt) at \(JobsCommand.format(error.at)): \(message)")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a discarded, cancelled, retryable, scheduled or completed job available now.")
        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The job's id.")
        var id: Int

        func run() async throws {
            let previous = try await JobsCommand.withConnection(database) { db in
                try await JobStore.retry(id: id, on: db)
            }
            print("Job \(id) was \(previous.rawValue); it is available now.")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a waiting job, or ask the worker running a job to stop it.")
        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The job's id.")
        var id: Int

        func run() async throws {
            let result = try await JobsCommand.withConnection(database) { db in
                try await JobStore.cancel(id: id, on: db)
            }
            switch result {
            case .cancelled:
                print("Job \(id) is cancelled.")
            case .requested:
                print("Job \(id) is running; its worker will stop it at its next lease renewal.")
            }
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up a waiting (available, scheduled or retryable) job: it is discarded and not run again.")
        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The job's id.")
        var id: Int

        func run() async throws {
            try await JobsCommand.withConnection(database) { db in
                try await JobStore.discard(id: id, on: db)
            }
            print("Job \(id) is discarded.")
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count jobs by state and kind; print the queue latency and the table's dead rows.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let statistics = try await JobsCommand.withConnection(database) { db in
                try await JobStore.statistics(on: db)
            }
            JobsCommand.printTable(
                header: ["STATE", "JOBS"],
                rows: JobState.allCases.map { [$0.rawValue, String(statistics.total($0))] })
            print("")
            if statistics.counts.isEmpty {
                print("No jobs.")
            } else {
                JobsCommand.printTable(
                    header: ["KIND", "STATE", "JOBS"],
                    rows: statistics.counts.map { [$0.kind, $0.state.rawValue, String($0.count)] })
            }
            print("")
            if let age = statistics.oldestAvailableAge {
                print("Queue latency: \(String(format: "%.1f", age)) s (the oldest available job's wait)")
            } else {
                print("Queue latency: none (no job is available)")
            }
            print("Table rows: \(statistics.liveRows) live, \(statistics.deadRows) dead (pg_stat_user_tables)")
        }
    }

    /// The state names, for help and errors.
    static let stateNames = JobState.allCases.map(\.rawValue).joined(separator: ", ")

    /// Reads a `--state` value.
    static func parseState(_ text: String) throws -> JobState {
        guard let state = JobState(rawValue: text.lowercased()) else {
            throw CommandFailure("--state: \(text) is not one of \(stateNames)")
        }
        return state
    }

    /// Opens the database, runs `body` on one connection, and closes everything, also on failure.
    /// - Throws: `CommandFailure` with the message of a `JobQueueError`; other errors as they are.
    static func withConnection<Result: Sendable>(
        _ options: DatabaseOptions, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await options.settings().withDatabase(maximumConnections: 2) { client in
                try await client.withConnection(body)
            }
        } catch let error as JobQueueError {
            throw CommandFailure(error.message)
        }
    }

    /// Prints rows under a header, each column padded to its widest cell; the last column is not padded.
    static func printTable(header: [String], rows: [[String]]) {
        let lines = [header] + rows
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        for line in lines {
            let cells = line.enumerated().map { column, cell in
                column == line.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }

    /// The calendar times are shown in: Asia/Shanghai (the operators' time zone, never `.current`).
    private static let shanghai: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt
        return calendar
    }()

    /// A time in Asia/Shanghai, like `2026-11-26 15:04:05+08`, or `-`.
    static func format(_ date: Date?) -> String {
        guard let date else { return "-" }
        let parts = shanghai.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let offset = shanghai.timeZone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        let hours = abs(offset) / 3600
        let minutes = abs(offset) % 3600 / 60
        let zone = sign + (minutes == 0 ? String(format: "%02d", hours) : String(format: "%02d:%02d", hours, minutes))
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
            parts.minute ?? 0, parts.second ?? 0) + zone
    }

    /// Text on one line (newlines become spaces), cut to `limit` characters when given.
    static func oneLine(_ text: String, limit: Int?) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        guard let limit, flat.count > limit else { return flat }
        return String(flat.prefix(limit - 1)) + "…"
    }
}

import Foundation
import Metrics

/// The queue's metrics, reported through swift-metrics (Prometheus names; bounded labels only:
/// queue, kind, state, outcome; never an id).
enum JobMetrics {
    /// Jobs inserted, by kind.
    static func enqueued(kind: String, count: Int) {
        Counter(label: "jiebang_jobs_enqueued_total", dimensions: [("kind", kind)]).increment(by: count)
    }

    /// Attempts finished, by kind and outcome (completed, retryable, discarded, cancelled, snoozed).
    static func finished(kind: String, outcome: String) {
        Counter(label: "jiebang_jobs_finished_total", dimensions: [("kind", kind), ("outcome", outcome)]).increment()
    }

    /// How long an attempt ran, by kind.
    static func ran(kind: String, for duration: Duration) {
        Timer(label: "jiebang_jobs_run_duration_seconds", dimensions: [("kind", kind)]).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// From the moment a job was due to the start of its attempt, by queue.
    static func pickedUp(queue: String, after seconds: Double) {
        Timer(label: "jiebang_jobs_pickup_latency_seconds", dimensions: [("queue", queue)]).recordSeconds(max(0, seconds))
    }

    /// The number of unfinished jobs, by state and kind.
    static func count(state: String, kind: String, _ value: Int) {
        Gauge(label: "jiebang_jobs", dimensions: [("state", state), ("kind", kind)]).record(value)
    }
}

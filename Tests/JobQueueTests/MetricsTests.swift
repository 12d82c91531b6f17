import Foundation
import JiebangTesting
import JobQueue
import Metrics
import Postgres
import Prometheus
import Testing

@Suite("Queue metrics")
struct MetricsTests {
    @Test("Enqueues, outcomes, run time and pickup latency are reported by kind", .timeLimit(.minutes(1)))
    func reportsOutcomes() async throws {
        let registry = PrometheusCollectorRegistry()
        try await withMetricsFactory(PrometheusMetricsFactory(registry: registry)) {
            try await TestDatabase.withFreshDatabase { db in
                let jobs = JobClient()
                _ = try await db.withTransaction { tx in
                    try await jobs.enqueue(batch: (0..<5).map { _ in Scripted(action: .succeed) }, on: tx)
                }
                let failing = try await jobs.enqueue(Scripted(action: .fail), using: db)
                let worker = JobWorker(client: db, registry: testRegistry(), configuration: testWorkerConfiguration())
                try await withRunning([worker]) {
                    #expect(await eventually { (try? await db.jobState(failing.id)) == .retryable })
                    #expect(await eventually { (try? await db.count("SELECT count(*) FROM jobs WHERE state = 'completed'")) == 5 })
                }
            }
        }
        let text = registry.emitToString()
        #expect(text.contains(#"jiebang_jobs_enqueued_total{kind="test.scripted"} 6"#))
        #expect(text.contains(#"jiebang_jobs_finished_total{kind="test.scripted",outcome="completed"} 5"#))
        #expect(text.contains(#"jiebang_jobs_finished_total{kind="test.scripted",outcome="retryable"} 1"#))
        #expect(text.contains(#"jiebang_jobs_run_duration_seconds_count{kind="test.scripted"} 6"#))
        #expect(text.contains(#"jiebang_jobs_pickup_latency_seconds_count{queue="default"} 6"#))
    }
}

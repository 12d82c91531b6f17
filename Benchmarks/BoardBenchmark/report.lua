-- wrk reports the run on one line for the benchmark script to read:
-- RESULT requests=<n> seconds=<s> rps=<r> p50_ms=<ms> p90_ms=<ms> p99_ms=<ms> max_ms=<ms> errors=<n> non2xx=<n>
-- (latencies are wrk's per-request figures, in microseconds internally; connect/read/write/timeout errors
-- and non-2xx/3xx responses are counted separately, and the script refuses a run with any).
done = function(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d non2xx=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency.max / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end

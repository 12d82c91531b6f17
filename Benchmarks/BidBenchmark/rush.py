#!/usr/bin/env python3
"""The deadline rush: submits every bid of a list over HTTP/1.1 keep-alive connections at once.

Usage: rush.py HOST PORT CONNECTIONS < pairs   (each line: "<bid id> <token>")
Prints one line: submissions, seconds, rate, p50/p90/p99/max in ms, and the count of each status.
"""
import asyncio
import sys
import time


async def worker(host, port, queue, latencies, statuses, samples):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            try:
                bid, token = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            request = (
                f"POST /v1/bids/{bid}/submit HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if status != 200 and len(samples) < 3:
                samples.append(f"{status} {body[:300].decode(errors='replace')}")
    finally:
        writer.close()


async def main():
    host, port, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    queue = asyncio.Queue()
    for line in sys.stdin:
        if line.strip():
            bid, token = line.split()
            queue.put_nowait((bid, token))
    total = queue.qsize()
    latencies, statuses, samples = [], {}, []
    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(worker(host, port, queue, latencies, statuses, samples) for _ in range(connections)))
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    latencies.sort()

    def quantile(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    print(
        f"RESULT submissions={total} seconds={seconds:.3f} rate={total / seconds:.1f} "
        f"client_cpu_s={cpu:.2f} p50_ms={quantile(0.5):.2f} p90_ms={quantile(0.9):.2f} p99_ms={quantile(0.99):.2f} max_ms={latencies[-1] * 1000:.2f} "
        + " ".join(f"status_{code}={count}" for code, count in sorted(statuses.items()))
    )
    for sample in samples:
        print(f"SAMPLE {sample}", file=sys.stderr)


asyncio.run(main())

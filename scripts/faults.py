#!/usr/bin/env python3
"""Faults against real jiebang processes: what the clients saw, and what was lost.

Run it with `scripts/faults` (which builds the release `jiebang`). It starts a private embedded
PostgreSQL (`jiebang db start`), loads the demo (`jiebang seed-demo`), starts `jiebang serve` (without
workers) and, for the kills, `jiebang work` processes, all in a fresh temporary folder on free ports, and
runs five faults:

1. PostgreSQL restarted (`jiebang db stop`, a pause, `jiebang db start`) under HTTP load on public and
   signed-in routes: 503 with Retry-After while it is down, never a 500 or a hang, full service within
   5 s of its return, the same server process throughout.
2. `jiebang work` processes killed with SIGKILL at random instants while `email.send` jobs (the product's
   own kind) send e-mails to an SMTP sink this script runs: no job lost, no e-mail sent more often than
   it was attempted, one `sent` row per message.
3. The attachments' tablespace (a small tmpfs) full while a PDF is attached to a draft bid: a clear
   problem (507), and the bid and its attachments exactly as before.
4. `bids` locked (ACCESS EXCLUSIVE) for 30 s while clients use bid routes and others: bid routes answer
   503 at the lock timeout, the others keep answering 200, everything answers 200 after.
5. 2,000 HTTP connections at once: memory bounded, the excess answered 503, the process alive.

It prints one table and stops and removes everything at the end, also on failure. Exit status 1 when
anything was lost or repeated, an answer was a 500 (or a 5xx other than 503/507), a request hung, or a
process died that should not have. Only the Python standard library is used.
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HUNG = 40.0  # seconds: a request not answered by then hung (the statement timeout is 30 s)


class FaultFailure(Exception):
    """Something the script could not set up or measure."""


def note(text):
    print(f"faults: {text}", flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid):
    """The resident set size of `pid` in KiB (VmRSS), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def mib(kib):
    return f"{kib / 1024:.0f} MiB" if kib is not None else "?"


# ---------------------------------------------------------------------------------------------------------------------
# A small HTTP/1.1 client on asyncio (keep-alive, Content-Length and chunked bodies)


class Answer:
    def __init__(self, status, headers, body, seconds, started):
        self.status = status
        self.headers = headers
        self.body = body
        self.seconds = seconds
        self.started = started

    def json(self):
        return json.loads(self.body.decode()) if self.body else None


class Connection:
    """One keep-alive connection to the server."""

    def __init__(self, port):
        self.port = port
        self.reader = None
        self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def request(self, method, path, token=None, body=None, content_type="application/json", headers=None,
                      timeout=HUNG):
        """Sends one request (reconnecting when the connection was closed) and reads its answer.

        Raises asyncio.TimeoutError when no full answer came within `timeout`."""
        started = time.monotonic()
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Accept: application/json"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if body is not None:
            lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
        for attempt in range(2):
            try:
                if self.writer is None:
                    await asyncio.wait_for(self.open(), timeout)
                self.writer.write(data)
                await self.writer.drain()
                status, fields, payload = await asyncio.wait_for(self._read(), timeout - (time.monotonic() - started))
                if fields.get("connection", "").lower() == "close":
                    self.close()
                return Answer(status, fields, payload, time.monotonic() - started, started)
            except (ConnectionError, asyncio.IncompleteReadError, BrokenPipeError):
                self.close()
                if attempt == 1:
                    raise
            except asyncio.TimeoutError:
                self.close()
                raise

    async def _read(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        fields = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            payload = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                payload += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
        else:
            payload = b""
        return status, fields, payload


class Load:
    """Clients looping over requests until stopped, recording each answer with its start time."""

    def __init__(self, port, routes, clients):
        self.port = port
        self.routes = routes  # [(label, method, path, token)]
        self.clients = clients
        self.records = []  # (label, started, seconds, status or 'hung'/'error', retry_after, content_type)
        self.running = True
        self.tasks = []

    def start(self):
        for index in range(self.clients):
            self.tasks.append(asyncio.ensure_future(self._client(index)))

    async def stop(self):
        self.running = False
        await asyncio.gather(*self.tasks)

    async def _client(self, index):
        connection = Connection(self.port)
        routes = self.routes[index % len(self.routes):] + self.routes[:index % len(self.routes)]
        turn = 0
        while self.running:
            label, method, path, token = routes[turn % len(routes)]
            turn += 1
            started = time.monotonic()
            try:
                answer = await connection.request(method, path, token=token)
                self.records.append((label, started, answer.seconds, answer.status, answer.headers.get("retry-after"),
                                     answer.headers.get("content-type", "")))
            except asyncio.TimeoutError:
                self.records.append((label, started, time.monotonic() - started, "hung", None, ""))
            except (ConnectionError, OSError, asyncio.IncompleteReadError) as error:
                self.records.append((label, started, time.monotonic() - started, "error", None, type(error).__name__))
                await asyncio.sleep(0.05)
        connection.close()


def status_counts(records):
    counts = {}
    for record in records:
        counts[record[3]] = counts.get(record[3], 0) + 1
    return " ".join(f"{key}×{counts[key]}" for key in sorted(counts, key=str))


def bad_answers(records):
    """Answers that fail the run: a 5xx other than 503/507, a hang, a broken connection."""
    return [r for r in records if r[3] in ("hung", "error") or (isinstance(r[3], int) and r[3] >= 500 and r[3] not in (503, 507))]


def refusals_without_retry_after(records):
    return [r for r in records if r[3] == 503 and (not r[4] or "problem+json" not in r[5])]


# ---------------------------------------------------------------------------------------------------------------------
# An SMTP sink (enough of RFC 5321 for the project's client): records each message's Message-ID


class SMTPSink:
    def __init__(self, delay):
        self.delay = delay  # seconds before accepting each message: each job holds its worker a moment
        self.received = {}  # Message-ID -> copies
        self.server = None
        self.port = None

    async def start(self):
        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self):
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _session(self, reader, writer):
        async def reply(text):
            writer.write((text + "\r\n").encode())
            await writer.drain()

        try:
            await reply("220 faults-sink ESMTP")
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line.decode("latin-1").strip().split(" ")[0].upper()
                if verb in ("EHLO", "HELO"):
                    await reply("250-faults-sink\r\n250-8BITMIME\r\n250 SMTPUTF8")
                elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                    await reply("250 OK")
                elif verb == "DATA":
                    await reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        data = await reader.readline()
                        if not data:
                            return  # the client went away mid-message: nothing was received
                        if data in (b".\r\n", b".\n"):
                            break
                        lines.append(data)
                    text = b"".join(lines).decode("utf-8", errors="replace")
                    found = re.search(r"^Message-ID:\s*(\S+)", text, re.IGNORECASE | re.MULTILINE)
                    if self.delay:
                        await asyncio.sleep(self.delay)
                    key = found.group(1) if found else f"none-{len(self.received)}"
                    self.received[key] = self.received.get(key, 0) + 1
                    await reply("250 OK queued")
                elif verb == "QUIT":
                    await reply("221 Bye")
                    break
                else:
                    await reply("502 Command not implemented")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


# ---------------------------------------------------------------------------------------------------------------------
# The stage: cluster, server, workers


class Stage:
    def __init__(self, binary, quick):
        self.binary = binary
        self.quick = quick
        self.data = tempfile.mkdtemp(prefix="jiebang-faults.")
        # As root the cluster runs as the `postgres` OS user, who must reach the folder.
        os.chmod(self.data, 0o755)
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE", "PGUSER")}
        self.env.update(JIEBANG_DATA_DIR=self.data, JIEBANG_PORT=str(self.port), JIEBANG_HOST="127.0.0.1",
                        LOG_LEVEL=os.environ.get("LOG_LEVEL", "warning"))
        self.password = "faults-" + secrets.token_hex(8)
        # The server's limit of requests in flight: its default, or 64 for the quick run's 500 connections, which a
        # client on a loaded machine may not open fast enough to keep 256 requests in flight.
        self.request_limit = int(os.environ.get("JIEBANG_MAX_REQUESTS_IN_FLIGHT") or (64 if quick else 256))
        self.server = None
        self.server_log = os.path.join(self.data, "serve.log")
        self.workers = []  # Popen of `jiebang work`
        self.mount = None
        self.database_url = None
        self.cluster_dir = None

    def jiebang(self, *args, check=True, env=None):
        result = subprocess.run([self.binary, *args], env=env or self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise FaultFailure(f"jiebang {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-800:]}")
        return result

    def start_cluster(self):
        out = self.jiebang("db", "start").stdout
        self.database_url = next(line.split("=", 1)[1].strip('"') for line in out.splitlines()
                                 if line.startswith("DATABASE_URL="))
        status = self.jiebang("db", "status").stdout
        self.cluster_dir = next((line.split(" in ", 1)[1] for line in status.splitlines() if line.startswith("running in ")), None)

    def psql(self, sql):
        result = subprocess.run(["psql", self.database_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise FaultFailure(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def start_server(self):
        log = open(self.server_log, "a")
        env = dict(self.env, JIEBANG_MAX_REQUESTS_IN_FLIGHT=str(self.request_limit))
        self.server = subprocess.Popen([self.binary, "serve", "--no-with-workers"], env=env, stdout=log,
                                       stderr=subprocess.STDOUT)
        self.wait_ready(self.port, self.server, "jiebang serve")

    def wait_ready(self, port, process, name, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            if process.poll() is not None:
                raise FaultFailure(f"{name} exited {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise FaultFailure(f"{name} is not ready after {timeout} s")
            time.sleep(0.1)

    def start_worker(self, extra_env):
        port = free_port()
        log = open(os.path.join(self.data, "work.log"), "a")
        env = dict(self.env, **extra_env)
        process = subprocess.Popen([self.binary, "work", "--port", str(port), "--queues", "default=8"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        process.faults_port = port
        self.workers.append(process)
        return process

    def cleanup(self, failed):
        for process in self.workers + ([self.server] if self.server else []):
            if process.poll() is None:
                process.terminate()
        for process in self.workers + ([self.server] if self.server else []):
            try:
                process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if failed and os.path.exists(self.server_log):
            with open(self.server_log, errors="replace") as handle:
                lines = handle.readlines()[-30:]
            if lines:
                print("faults: the last lines of the server's log:", file=sys.stderr)
                sys.stderr.writelines("      " + line for line in lines)
        if self.mount and self.database_url:
            try:
                self.psql("ALTER TABLE bid_attachments SET TABLESPACE pg_default")
                self.psql("DROP TABLESPACE IF EXISTS faults_small")
            except FaultFailure:
                pass
        self.jiebang("db", "stop", check=False)
        if self.mount:
            subprocess.run(["umount", self.mount], capture_output=True)
        shutil.rmtree(self.data, ignore_errors=True)
        if self.cluster_dir and not self.cluster_dir.startswith(self.data) and \
                os.path.basename(self.cluster_dir.rstrip("/")).startswith("jiebang-"):
            shutil.rmtree(self.cluster_dir, ignore_errors=True)


class Row:
    """One line of the table."""

    def __init__(self, fault, load):
        self.fault = fault
        self.load = load
        self.saw = []
        self.lost = "-"
        self.problems = []
        self.skipped = None

    def verdict(self):
        if self.skipped:
            return "SKIPPED"
        return "FAIL" if self.problems else "ok"


# ---------------------------------------------------------------------------------------------------------------------
# Setup: people and a draft bid


async def sign_in(stage, login):
    connection = Connection(stage.port)
    answer = await connection.request("POST", "/v1/sessions", body={"login": login, "password": stage.password})
    connection.close()
    if answer.status != 201:
        raise FaultFailure(f"signing in as {login} answered {answer.status}: {answer.body[:300]!r}")
    session = answer.json()
    return session["token"], session["user"]


async def draft_bid(stage, token, user):
    """A draft bid of the demo's unit on a published challenge (created here), for the disk and lock faults."""
    connection = Connection(stage.port)
    unit = (await connection.request("GET", f"/v1/units/{user['unitID']}", token=token)).json()
    board = (await connection.request("GET", "/v1/board/challenges?status=published&limit=50")).json()
    content = {
        "technicalRoute": "采用晶界扩散与热压成形相结合的技术路线，完成中试验证。",
        "rdFoundation": "拥有省级工程技术研究中心和完整的检测条件。",
        "indicatorAnswers": ["矫顽力达到26 kOe"],
        "totalInvestmentFen": 3_000_000_000, "selfFundingFen": 2_700_000_000, "requestedFundingFen": 300_000_000,
        "team": [{"name": "王强", "title": "正高级工程师", "unit": unit["name"], "role": "项目负责人"}],
        "completionCommitment": True,
    }
    tried = []
    for entry in board["items"]:
        answer = await connection.request("POST", f"/v1/challenges/{entry['id']}/bids", token=token, body=content)
        if answer.status == 201:
            connection.close()
            return answer.json()
        tried.append(f"{entry['id']}: {answer.status} {answer.body[:200]!r}")
    connection.close()
    raise FaultFailure("no published challenge took a draft bid: " + "; ".join(tried[:3]))


def pdf(size):
    """A PDF-looking file of `size` bytes that does not compress (random bytes inside)."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    tail = b"\n%%EOF\n"
    return head + os.urandom(size - len(head) - len(tail)) + tail


# ---------------------------------------------------------------------------------------------------------------------
# 1. PostgreSQL restarted under load


async def fault_restart(stage, people, bid):
    clients = 8
    down_for = 3.0 if stage.quick else 5.0
    row = Row("PostgreSQL restarted (`jiebang db stop`, "
              f"{down_for:.0f} s down, `jiebang db start`)",
              f"{clients} keep-alive clients looping over the board, a challenge, /v1/me, the inbox and a bid (signed in)")
    token, _ = people["unit"]
    routes = [("board", "GET", "/v1/board/challenges?limit=5", None),
              ("me", "GET", "/v1/me", token),
              ("inbox", "GET", "/v1/notifications?limit=5", token),
              ("bid", "GET", f"/v1/bids/{bid['id']}", token)]
    pid = stage.server.pid
    load = Load(stage.port, routes, clients)
    load.start()
    await asyncio.sleep(3)
    stop_started = time.monotonic()
    await asyncio.to_thread(stage.jiebang, "db", "stop")
    down_at = time.monotonic()
    await asyncio.sleep(down_for)
    start_began = time.monotonic()
    await asyncio.to_thread(stage.jiebang, "db", "start")
    back_at = time.monotonic()
    await asyncio.sleep(8)
    await load.stop()
    records = load.records
    during = [r for r in records if r[1] >= down_at and r[1] + r[2] <= start_began]
    after = [r for r in records if r[1] >= back_at]
    # Full service: from `db start` returning until every route has answered 200 and nothing but 200 follows.
    recovered = None
    last_not_ok = max((r[1] + r[2] for r in after if r[3] != 200), default=back_at)
    firsts = [min((r[1] + r[2] for r in after if r[0] == label and r[3] == 200), default=None) for label, *_ in routes]
    if None not in firsts:
        recovered = max([last_not_ok] + firsts) - back_at
    hung = [r for r in records if r[3] == "hung"]
    row.saw = [
        f"while down: {status_counts(during) or 'nothing'}",
        f"in all: {status_counts(records)}",
        f"max latency {max((r[2] for r in records), default=0):.2f} s",
        f"every route 200 (and only 200) {recovered:.2f} s after `db start` returned" if recovered is not None
        else "never back to full service",
        f"stop took {down_at - stop_started:.1f} s, start {back_at - start_began:.1f} s",
        f"server pid {pid} {'same, alive' if stage.server.poll() is None and stage.server.pid == pid else 'DIED'}",
    ]
    row.lost = "0 requests lost (each answered)" if not hung else f"{len(hung)} hung"
    if [r for r in during if r[3] != 503]:
        row.problems.append(f"answers other than 503 while down: {status_counts([r for r in during if r[3] != 503])}")
    if not during:
        row.problems.append("no request was answered while PostgreSQL was down")
    if refusals_without_retry_after(records):
        row.problems.append("a 503 without Retry-After or problem+json")
    if bad_answers(records):
        row.problems.append(f"bad answers: {status_counts(bad_answers(records))}")
    if recovered is None or recovered > 5.0:
        row.problems.append("not at full service within 5 s of PostgreSQL's return")
    if stage.server.poll() is not None:
        row.problems.append("the server died")
    return row


# ---------------------------------------------------------------------------------------------------------------------
# 2. Workers killed with SIGKILL while e-mail jobs run


async def fault_kills(stage):
    kills = 20 if stage.quick else 100
    jobs = 1_000 if stage.quick else 10_000
    processes = 3
    row = Row(f"`jiebang work` killed with SIGKILL {kills} times at random instants",
              f"{jobs:,} `email.send` jobs (the product's kind: one e-mail each to an SMTP sink that takes 20 ms to accept it); "
              f"{processes} worker processes, 8 jobs at once each")
    sink = SMTPSink(delay=0.02)
    await sink.start()
    # The messages and their jobs, as `EmailDeliveries.enqueue` writes them for notifications.
    await asyncio.to_thread(stage.psql, f"""
        WITH recipient AS (SELECT id FROM users WHERE login = 'demo.unit'),
        n AS (
            INSERT INTO notifications (user_id, occasion, subject, title, body)
            SELECT recipient.id, 'bid.returned', 'faults:' || g, '申请被退回修改', '故障演练：第 ' || g || ' 封'
            FROM recipient, generate_series(1, {jobs}) g
            RETURNING id, created_at),
        m AS (
            INSERT INTO email_messages (notification_id, address, created_at)
            SELECT id, 'faults@example.com', created_at FROM n ORDER BY id
            RETURNING id)
        INSERT INTO jobs (kind, args, max_attempts)
        SELECT 'email.send', jsonb_build_object('message', m.id), 10 FROM m""")
    env = {"SMTP_URL": f"smtp://127.0.0.1:{sink.port}", "MAIL_FROM": "揭榜挂帅平台 <noreply@example.gov.cn>"}
    started = time.monotonic()
    live = [stage.start_worker(env) for _ in range(processes)]
    killed_pids = []
    kills_with_running = 0
    wrong_exit = 0

    def completed():
        return int(stage.psql("SELECT count(*) FROM jobs WHERE kind = 'email.send' AND state = 'completed'"))

    # Kill i comes at a random instant after i/(kills+1) of the jobs are done, so the kills spread over the run.
    for index in range(kills):
        threshold = jobs * (index + 1) // (kills + 2)
        while await asyncio.to_thread(completed) < threshold:
            await asyncio.sleep(0.05)
        await asyncio.sleep(random.uniform(0, 0.3))
        # The victim: a worker holding running jobs when there is one (a fresh one may still be starting).
        holding = dict(line.split("|") for line in (await asyncio.to_thread(
            stage.psql, "SELECT split_part(lease_owner, '/', 2), count(*) FROM jobs WHERE state = 'running' "
                        "GROUP BY 1")).splitlines())
        busy = [p for p in live if int(holding.get(str(p.pid), 0)) > 0]
        victim = random.choice(busy or live)
        kills_with_running += victim in busy
        victim.send_signal(signal.SIGKILL)
        code = await asyncio.to_thread(victim.wait)
        wrong_exit += code != -signal.SIGKILL
        killed_pids.append(victim.pid)
        live.remove(victim)
        live.append(stage.start_worker(env))
    kills_done = time.monotonic()

    # Time passes for the dead: their leases run out and the rescued jobs' backoff is over (the rescuer
    # itself, every 10 s in each worker, hands them back).
    deadline = time.monotonic() + (240 if stage.quick else 600)
    while True:
        done = await asyncio.to_thread(completed)
        if done == jobs or time.monotonic() > deadline:
            break
        pids = ",".join(str(p) for p in killed_pids)
        await asyncio.to_thread(stage.psql, f"""
            UPDATE jobs SET lease_expires_at = now() - interval '1 second'
            WHERE state = 'running' AND split_part(lease_owner, '/', 2) = ANY (string_to_array('{pids}', ','))
              AND lease_expires_at > now();
            UPDATE jobs SET run_at = now() WHERE state = 'retryable' AND run_at > now()""")
        await asyncio.sleep(1)
    drained = time.monotonic()
    states = await asyncio.to_thread(
        stage.psql, "SELECT string_agg(state || '×' || n, ' ') FROM (SELECT state, count(*) n FROM jobs "
                    "WHERE kind = 'email.send' GROUP BY state ORDER BY state) s")
    rows = await asyncio.to_thread(stage.psql, """
        SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status <> 'sent'),
               count(*) FILTER (WHERE attempts > 1), coalesce(sum(attempts), 0)
        FROM email_messages""")
    sent_rows, unsent_rows, retried_rows, attempts_total = (int(x) for x in rows.split("|"))
    attempts = dict(line.split("|") for line in (await asyncio.to_thread(
        stage.psql, "SELECT id || '@example.gov.cn', attempts FROM email_messages")).splitlines())
    copies = {key.strip("<>"): count for key, count in sink.received.items()}
    distinct = sum(1 for key in copies if key in attempts)
    resent = sum(count - 1 for count in copies.values())
    repeated = sum(max(0, count - int(attempts.get(key, 0))) for key, count in copies.items())
    for key, count in copies.items():
        if count > int(attempts.get(key, 0)):
            job = await asyncio.to_thread(
                stage.psql, f"SELECT state || ' attempt ' || attempt || ' errors ' || errors::text FROM jobs "
                            f"WHERE kind = 'email.send' AND args->>'message' = '{key.split('@')[0]}'")
            note(f"repeated: {key} received {count}×, attempts {attempts.get(key)}; job {job}")
    survivors_alive = sum(1 for p in live if p.poll() is None)
    await sink.stop()
    lost = (jobs - completed_count(states)) + (jobs - distinct)
    row.saw = [
        f"{kills} kills ({kills_with_running} while the victim held running jobs), each exit by SIGKILL: "
        f"{'yes' if not wrong_exit else f'no ({wrong_exit})'}",
        f"jobs: {states}",
        f"e-mails received {sum(copies.values()):,}, distinct Message-IDs {distinct:,}; "
        f"{resent} resent after a kill between the sink's 250 and the commit (same Message-ID)",
        f"messages attempted more than once {retried_rows}",
        f"kills took {kills_done - started:.0f} s, drained {drained - kills_done:.0f} s after the last kill",
    ]
    row.lost = f"{lost} lost, {repeated} repeated (copies beyond attempts)"
    if lost or repeated:
        row.problems.append(f"{lost} lost, {repeated} repeated")
    if sent_rows != jobs or unsent_rows:
        row.problems.append(f"{sent_rows} messages marked sent, {unsent_rows} not")
    if wrong_exit:
        row.problems.append(f"{wrong_exit} workers did not exit by SIGKILL")
    if survivors_alive != processes:
        row.problems.append(f"{processes - survivors_alive} workers not killed by the script died")
    for process in live:
        process.terminate()
    for process in live:
        await asyncio.to_thread(process.wait)
    return row


def completed_count(states):
    found = re.search(r"completed×(\d+)", states or "")
    return int(found.group(1)) if found else 0


# ---------------------------------------------------------------------------------------------------------------------
# 3. The attachments' space runs out during an upload


def bid_snapshot(stage, bid_id):
    """The bid's row and its attachments (names, sizes, digests) as the database has them."""
    return stage.psql(f"""
        SELECT md5(b::text) || ' ' || coalesce((SELECT string_agg(a.id || ':' || a.filename || ':' || a.size_bytes || ':'
                                                               || a.sha256 || ':' || md5(a.data), ',' ORDER BY a.id)
                                                FROM bid_attachments a WHERE a.bid_id = b.id), 'none')
        FROM bids b WHERE b.id = {int(bid_id)}""")


async def fault_disk(stage, people, bid):
    size_mib = 8
    row = Row(f"The attachments' tablespace full ({size_mib} MiB tmpfs) during an upload",
              f"a draft bid with one 1 MiB PDF; a {size_mib + 4} MiB PDF attached through the API")
    token, _ = people["unit"]
    folder = os.path.join(stage.data, "small-disk")
    os.makedirs(folder)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,uid=postgres,gid=postgres,mode=0700",
                              "tmpfs", folder], capture_output=True, text=True)
    if mounted.returncode != 0:
        row.skipped = f"cannot mount a tmpfs: {mounted.stderr.strip()}"
        row.saw = [row.skipped]
        return row
    stage.mount = folder
    await asyncio.to_thread(stage.psql, f"CREATE TABLESPACE faults_small LOCATION '{folder}'")
    await asyncio.to_thread(stage.psql, "ALTER TABLE bid_attachments SET TABLESPACE faults_small")
    connection = Connection(stage.port)
    first = await connection.request("POST", f"/v1/bids/{bid['id']}/attachments?filename=%E6%8A%80%E6%9C%AF%E6%96%B9%E6%A1%88.pdf",
                                      token=token, body=pdf(1 << 20), content_type="application/pdf")
    if first.status != 201:
        raise FaultFailure(f"the first attachment answered {first.status}: {first.body[:300]!r}")
    before = await asyncio.to_thread(bid_snapshot, stage, bid["id"])
    listed_before = (await connection.request("GET", f"/v1/bids/{bid['id']}/attachments", token=token)).body
    big = await connection.request("POST", f"/v1/bids/{bid['id']}/attachments?filename=big.pdf", token=token,
                                   body=pdf((size_mib + 4) << 20), content_type="application/pdf",
                                   headers={"Idempotency-Key": secrets.token_hex(8)})
    after = await asyncio.to_thread(bid_snapshot, stage, bid["id"])
    listed_after = (await connection.request("GET", f"/v1/bids/{bid['id']}/attachments", token=token)).body
    health = await connection.request("GET", f"/v1/bids/{bid['id']}", token=token)
    connection.close()
    problem = big.json() if "json" in big.headers.get("content-type", "") else {}
    row.saw = [
        f"{big.status} {big.headers.get('content-type', '').split(';')[0]}: \"{problem.get('title', '')}\" — {problem.get('detail', '')}",
        f"in {big.seconds:.2f} s; the bid still answers {health.status}",
    ]
    same = before == after and listed_before == listed_after
    row.lost = "bid and attachments as before" if same else "THE BID CHANGED"
    if big.status != 507 or "problem+json" not in big.headers.get("content-type", ""):
        row.problems.append(f"the upload answered {big.status}, not 507 problem+json")
    if not same:
        row.problems.append(f"before {before} after {after}")
    if stage.server.poll() is not None:
        row.problems.append("the server died")
    return row


# ---------------------------------------------------------------------------------------------------------------------
# 4. A lock held on `bids`


async def fault_lock(stage, people, bid):
    hold = 12 if stage.quick else 30
    row = Row(f"`LOCK TABLE bids IN ACCESS EXCLUSIVE MODE` held {hold} s",
              f"{stage.lock_clients} clients on bid routes (a bid, the unit's bid list), 4 on others (board, a challenge, "
              "/v1/me, /healthz); pool 8")
    token, _ = people["unit"]
    challenge = bid["challengeID"]
    bid_routes = [("bid", "GET", f"/v1/bids/{bid['id']}", token), ("bids", "GET", "/v1/bids?limit=5", token)]
    other_routes = [("board", "GET", "/v1/board/challenges?limit=5", None),
                    ("challenge", "GET", f"/v1/board/challenges/{challenge}", None),
                    ("me", "GET", "/v1/me", token), ("healthz", "GET", "/healthz", None)]
    bids_load = Load(stage.port, bid_routes, stage.lock_clients)
    other_load = Load(stage.port, other_routes, 4)
    bids_load.start()
    other_load.start()
    await asyncio.sleep(2)
    locker = await asyncio.create_subprocess_exec(
        "psql", stage.database_url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    locker.stdin.write(b"BEGIN;\nLOCK TABLE bids IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n")
    await locker.stdin.drain()
    line = await asyncio.wait_for(locker.stdout.readline(), 30)
    if line.strip() != b"locked":
        raise FaultFailure(f"psql did not take the lock: {line!r} {(await locker.stderr.read()).decode()[-300:]}")
    locked_at = time.monotonic()
    await asyncio.sleep(hold)
    commit_at = time.monotonic()
    locker.stdin.write(b"COMMIT;\n")
    await locker.stdin.drain()
    locker.stdin.close()
    _, error = await locker.communicate()
    released_at = time.monotonic()
    if locker.returncode != 0:
        raise FaultFailure(f"psql holding the lock failed: {error.decode().strip()}")
    await asyncio.sleep(6)
    await bids_load.stop()
    await other_load.stop()
    # Bid requests that overlapped the lock: refused at the lock timeout, or served once it went.
    # (A request sent in the moment between the lock being granted and psql saying so is refused too.)
    refused = [r for r in bids_load.records if r[3] == 503 and r[1] < commit_at and r[1] + r[2] > locked_at]
    bids_during = [r for r in bids_load.records if locked_at <= r[1] < commit_at]
    waited = [r for r in bids_during if r[3] == 200 and r[1] + r[2] >= commit_at - 0.05]
    wrong = [r for r in bids_during if r[3] != 503 and r not in waited]
    others_during = [r for r in other_load.records if locked_at <= r[1] <= commit_at]
    after_bids = [r for r in bids_load.records if r[1] >= released_at]
    recovered = max((r[1] + r[2] for r in after_bids if r[3] != 200), default=released_at) - released_at
    everything = bids_load.records + other_load.records
    row.saw = [
        f"bid routes while locked: 503×{len(refused)} after {min((r[2] for r in refused), default=0):.1f}–"
        f"{max((r[2] for r in refused), default=0):.1f} s (lock_timeout), 200×{len(waited)} served when the lock went"
        + (f", other: {status_counts(wrong)}" if wrong else ""),
        f"other routes while locked: {status_counts(others_during)}, max latency "
        f"{max((r[2] for r in others_during), default=0):.2f} s",
        f"after: bid routes only 200 {recovered:.1f} s after the lock went; in all {status_counts(everything)}",
        f"max latency {max((r[2] for r in everything), default=0):.1f} s",
    ]
    hung = [r for r in everything if r[3] == "hung"]
    row.lost = "0 requests lost (each answered)" if not hung else f"{len(hung)} hung"
    if wrong:
        row.problems.append(f"bid routes answered {status_counts(wrong)} while locked")
    if not refused:
        row.problems.append("no bid request was refused while locked")
    # The pool is shared: had the bid requests taken every connection, the others would queue behind the lock.
    if max((r[2] for r in others_during), default=0) > 3.0:
        row.problems.append("other routes waited more than 3 s while bids was locked (the pool was exhausted)")
    if [r for r in others_during if r[3] != 200]:
        row.problems.append(f"other routes answered {status_counts([r for r in others_during if r[3] != 200])}")
    if refusals_without_retry_after(everything):
        row.problems.append("a 503 without Retry-After or problem+json")
    if bad_answers(everything):
        row.problems.append(f"bad answers: {status_counts(bad_answers(everything))}")
    if [r for r in after_bids if r[1] > released_at + 5 and r[3] != 200]:
        row.problems.append("bid routes not back to 200 within 5 s of the lock's end")
    if stage.server.poll() is not None:
        row.problems.append("the server died")
    return row


# ---------------------------------------------------------------------------------------------------------------------
# 5. Thousands of connections at once


async def fault_connections(stage):
    connections = 500 if stage.quick else 2_000
    per_connection = 3
    row = Row(f"{connections:,} HTTP connections at once",
              f"each opened at the same moment and sending {per_connection} board requests (keep-alive); "
              f"JIEBANG_MAX_REQUESTS_IN_FLIGHT {stage.request_limit}, pool 8")
    pid = stage.server.pid
    before = rss_kib(pid)
    peak = before
    records = []
    connect_failures = []
    sampling = True

    async def sample():
        nonlocal peak
        while sampling:
            value = rss_kib(pid)
            if value is not None and value > peak:
                peak = value
            await asyncio.sleep(0.05)

    async def client(index):
        connection = Connection(stage.port)
        try:
            await asyncio.wait_for(connection.open(), 30)
        except (OSError, asyncio.TimeoutError) as error:
            connect_failures.append(type(error).__name__)
            return
        for _ in range(per_connection):
            started = time.monotonic()
            try:
                answer = await connection.request("GET", "/v1/board/challenges?limit=5")
                records.append(("board", started, answer.seconds, answer.status, answer.headers.get("retry-after"),
                                answer.headers.get("content-type", "")))
            except asyncio.TimeoutError:
                records.append(("board", started, time.monotonic() - started, "hung", None, ""))
            except (ConnectionError, OSError, asyncio.IncompleteReadError) as error:
                records.append(("board", started, time.monotonic() - started, "error", None, type(error).__name__))
                break
        connection.close()

    sampler = asyncio.ensure_future(sample())
    started = time.monotonic()
    health_during = []

    async def health():
        connection = Connection(stage.port)
        for _ in range(5):
            try:
                answer = await connection.request("GET", "/healthz", timeout=10)
                health_during.append(answer.status)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                health_during.append("error")
            await asyncio.sleep(0.2)
        connection.close()

    await asyncio.gather(*(client(i) for i in range(connections)), health())
    elapsed = time.monotonic() - started
    await asyncio.sleep(3)
    sampling = False
    await sampler
    after = rss_kib(pid)
    check = Connection(stage.port)
    final = await check.request("GET", "/v1/board/challenges?limit=5")
    check.close()
    row.saw = [
        f"{status_counts(records)} in {elapsed:.1f} s; max latency {max((r[2] for r in records), default=0):.2f} s",
        f"connections refused or timed out: {len(connect_failures)}; /healthz during: {status_counts([('', 0, 0, s) for s in health_during])}",
        f"RSS before {mib(before)}, peak {mib(peak)}, after {mib(after)}; then a request answers {final.status}",
        f"server pid {pid} {'alive' if stage.server.poll() is None else 'DIED'}",
    ]
    hung = [r for r in records if r[3] == "hung"]
    row.lost = "0 requests lost (each answered)" if not hung and not connect_failures else \
        f"{len(hung)} hung, {len(connect_failures)} connections failed"
    if bad_answers(records):
        row.problems.append(f"bad answers: {status_counts(bad_answers(records))}")
    if refusals_without_retry_after(records):
        row.problems.append("a 503 without Retry-After or problem+json")
    if connect_failures:
        row.problems.append(f"{len(connect_failures)} connections failed")
    if not [r for r in records if r[3] == 503]:
        row.problems.append("no excess request was answered 503")
    if stage.server.poll() is not None or final.status != 200:
        row.problems.append("the server did not survive")
    if peak is not None and before is not None and peak - before > 512 * 1024:
        row.problems.append("memory grew by more than 512 MiB")
    return row


# ---------------------------------------------------------------------------------------------------------------------
# The table


def print_table(rows, seconds, quick):
    print(f"\n## Faults ({'--quick' if quick else 'full run'}, {seconds:.0f} s)\n")
    print("| Fault | Load held | What the clients saw | Lost | Result |")
    print("|---|---|---|---|---|")
    for row in rows:
        saw = "<br>".join(row.saw)
        result = row.verdict() + (": " + "; ".join(row.problems) if row.problems else "") + \
            (f": {row.skipped}" if row.skipped else "")
        print(f"| {row.fault} | {row.load} | {saw} | {row.lost} | {result} |")
    print(flush=True)


async def run(stage, rows):
    note(f"fresh data folder {stage.data}, port {stage.port}")
    await asyncio.to_thread(stage.start_cluster)
    await asyncio.to_thread(stage.jiebang, "seed-demo", "--accounts-password", stage.password)
    await asyncio.to_thread(stage.start_server)
    note(f"jiebang serve (pid {stage.server.pid}) is ready")
    people = {"unit": await sign_in(stage, "demo.unit")}
    bid = await draft_bid(stage, *people["unit"])
    note(f"draft bid {bid['id']} on challenge {bid['challengeID']}")
    for key, name, fault in [("restart", "PostgreSQL restart", lambda: fault_restart(stage, people, bid)),
                             ("kills", "worker kills", lambda: fault_kills(stage)),
                             ("disk", "full disk", lambda: fault_disk(stage, people, bid)),
                             ("lock", "lock on bids", lambda: fault_lock(stage, people, bid)),
                             ("connections", "connections", lambda: fault_connections(stage))]:
        if stage.only and key not in stage.only:
            continue
        note(f"{name} …")
        started = time.monotonic()
        row = await fault()
        rows.append(row)
        note(f"{name}: {row.verdict()} in {time.monotonic() - started:.0f} s"
             + (f" ({'; '.join(row.problems)})" if row.problems else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the jiebang executable")
    parser.add_argument("--quick", action="store_true", help="a CI-sized run (fewer kills, jobs and connections, a 12 s lock)")
    parser.add_argument("--lock-clients", type=int, default=4,
                        help="clients on bid routes during the lock (default 4, half the pool; 8 or more exhaust it)")
    parser.add_argument("--only", help="run only these faults, comma-separated: restart,kills,disk,lock,connections")
    arguments = parser.parse_args()
    started = time.monotonic()
    stage = Stage(os.path.abspath(arguments.bin), arguments.quick)
    stage.only = arguments.only.split(",") if arguments.only else None
    stage.lock_clients = arguments.lock_clients
    rows = []

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    status = 1
    try:
        asyncio.run(run(stage, rows))
        status = 0 if all(not row.problems for row in rows) and len(rows) == len(stage.only or range(5)) else 1
    except FaultFailure as failure:
        print(f"\nfaults: FAILED: {failure}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("\nfaults: interrupted", file=sys.stderr, flush=True)
        status = 130
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
        print(f"\nfaults: stopped by a signal (exit status {status})", file=sys.stderr, flush=True)
    except Exception as error:  # a bug of the script itself, or an answer it could not read
        import traceback
        traceback.print_exc()
        print(f"\nfaults: FAILED: {error!r}", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stage.cleanup(failed=status != 0)
        note("stopped the server, the workers and the database; removed " + stage.data)
    if rows:
        print_table(rows, time.monotonic() - started, arguments.quick)
    return status


if __name__ == "__main__":
    sys.exit(main())

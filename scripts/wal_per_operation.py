#!/usr/bin/env python3
"""WAL bytes per operation (scripts/wal-per-operation): what each kind of request or job writes to PostgreSQL's WAL.

It starts a private embedded PostgreSQL (`jiebang db start`), loads the demo (`jiebang seed-demo`), prepares
consortia (a lead and a partner unit, each with a signed-in admin) by SQL, starts `jiebang serve
--no-with-workers` and later one `jiebang work`, all in a fresh temporary folder, on free ports on 127.0.0.1.
For each operation it reads pg_current_wal_lsn() before and after and divides pg_wal_lsn_diff by the number
of repetitions. The operations run one after another from one client, so nothing depends on timing.

Two figures per operation:

- first after a checkpoint: the mean of --first operations, each run alone right after its own CHECKPOINT.
  The first change of a page after a checkpoint writes the whole page into the WAL (full_page_writes), so
  this is what an operation costs when every page it touches is cold: the upper bound, as in a deadline rush
  that touches bids scattered over the table.
- steady: one CHECKPOINT, then the remaining repetitions in a row; pages touched by an earlier repetition
  are not written whole again. Nearer what a burst on neighbouring rows costs.

pg_waldump splits each window into record bytes and full-page images (FPI). Autovacuum is off while it
measures (its WAL would land in random windows); VACUUM of the whole database at the end is reported as one
line. The cron of the worker is held (its schedules' last slot set to the year 2999 before it starts)
so that only the measured jobs run. Each window ends 1.5 s after its last operation, so that the token stamps
the server writes once a second (TokenUseRecorder) are inside it.

Only the Python standard library is used. Everything is stopped and the folder removed at the end, also on
failure or SIGTERM (--keep keeps the folder).
"""

import argparse
import asyncio
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # importing faults.py must leave no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import SMTPSink  # noqa: E402  (the standard-library SMTP sink of scripts/faults.py)

SETTLE = 1.5  # seconds after the last operation of a window: the token stamps are flushed once a second


class Failure(Exception):
    pass


def note(text):
    print(f"wal-per-operation: {text}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin(name):
    for version in ("17", "16", "15"):
        path = f"/usr/lib/postgresql/{version}/bin/{name}"
        if os.path.exists(path):
            return path
    return shutil.which(name)


class Stage:
    def __init__(self, binary, keep):
        self.binary = binary
        self.keep = keep
        self.root = tempfile.mkdtemp(prefix="jiebang-wal.")
        os.chmod(self.root, 0o755)  # as root the cluster runs as the `postgres` OS user, who must reach it
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE", "PGUSER")}
        self.port = free_port()
        self.env.update(JIEBANG_DATA_DIR=os.path.join(self.root, "data"), JIEBANG_HOST="127.0.0.1",
                        JIEBANG_PORT=str(self.port), LOG_LEVEL="warning")
        self.password = "wal-" + secrets.token_hex(8)
        self.server = None
        self.worker = None
        self.database_url = None
        self.cluster_dir = None
        self.sink = None
        self.sink_loop = None

    def jiebang(self, *args, env=None, check=True):
        result = subprocess.run([self.binary, *args], env=env or self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise Failure(f"jiebang {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-800:]}")
        return result

    def start_cluster(self):
        out = self.jiebang("db", "start").stdout
        self.database_url = next(line.split("=", 1)[1].strip('"') for line in out.splitlines()
                                 if line.startswith("DATABASE_URL="))
        status = self.jiebang("db", "status").stdout
        self.cluster_dir = next((line.split(" in ", 1)[1] for line in status.splitlines()
                                 if line.startswith("running in ")), None)

    def psql(self, sql, stdin=None):
        args = ["psql", self.database_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"]
        args += ["-f", "-"] if stdin is not None else ["-c", sql]
        result = subprocess.run(args, input=stdin, capture_output=True, text=True)
        if result.returncode != 0:
            raise Failure(f"psql failed: {result.stderr.strip()[-800:]}")
        return result.stdout.strip()

    def lsn(self):
        return self.psql("SELECT pg_current_wal_lsn()")

    def checkpoint(self):
        self.psql("CHECKPOINT")

    def window(self, start, end):
        """Bytes between two LSNs, and pg_waldump's split: records, record bytes, FPI bytes."""
        total = int(self.psql(f"SELECT pg_wal_lsn_diff('{end}', '{start}')"))
        records = record_bytes = fpi_bytes = None
        waldump = postgres_bin("pg_waldump")
        pg_wal = os.path.join(self.cluster_dir or "", "pgdata", "pg_wal")
        if total > 0 and waldump and os.path.isdir(pg_wal):
            result = subprocess.run([waldump, "--stats", "-p", pg_wal, "-s", start, "-e", end],
                                    capture_output=True, text=True)
            found = re.search(r"^Total\s+(\d+)\s+(\d+)\s+\[[^\]]*\]\s+(\d+)", result.stdout, re.MULTILINE)
            if found:
                records, record_bytes, fpi_bytes = (int(x) for x in found.groups())
        elif total == 0:
            records = record_bytes = fpi_bytes = 0
        return {"bytes": total, "records": records, "record_bytes": record_bytes, "fpi_bytes": fpi_bytes}

    def wait_ready(self, port, process, name, timeout=180):
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
                connection.close()
            except OSError:
                pass
            if process.poll() is not None:
                raise Failure(f"{name} exited {process.returncode} before it was ready (log in {self.root})")
            if time.monotonic() > deadline:
                raise Failure(f"{name} is not ready after {timeout} s")
            time.sleep(0.2)

    def start_server(self):
        log = open(os.path.join(self.root, "serve.log"), "a")
        self.server = subprocess.Popen([self.binary, "serve", "--no-with-workers", "--no-migrate"], env=self.env,
                                       stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready(self.port, self.server, "jiebang serve")

    def start_sink(self):
        """The SMTP sink of scripts/faults.py, on its own event loop in a thread."""
        self.sink = SMTPSink(delay=0)
        self.sink_loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.sink_loop)
            self.sink_loop.run_until_complete(self.sink.start())
            ready.set()
            self.sink_loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        if not ready.wait(10):
            raise Failure("the SMTP sink did not start")

    def start_worker(self):
        port = free_port()
        env = dict(self.env, SMTP_URL=f"smtp://127.0.0.1:{self.sink.port}",
                   MAIL_FROM="揭榜挂帅平台 <noreply@example.gov.cn>")
        log = open(os.path.join(self.root, "work.log"), "a")
        self.worker = subprocess.Popen([self.binary, "work", "--port", str(port), "--queues", "default=8"], env=env,
                                       stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready(port, self.worker, "jiebang work")

    def cleanup(self):
        for process in (self.worker, self.server):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self.worker, self.server):
            if process is not None:
                try:
                    process.wait(timeout=45)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self.sink_loop is not None:
            self.sink_loop.call_soon_threadsafe(self.sink_loop.stop)
        self.jiebang("db", "stop", check=False)
        if self.keep:
            note(f"kept {self.root}")
            return
        shutil.rmtree(self.root, ignore_errors=True)
        if self.cluster_dir and not self.cluster_dir.startswith(self.root) and \
                os.path.basename(self.cluster_dir.rstrip("/")).startswith("jiebang-"):
            shutil.rmtree(self.cluster_dir, ignore_errors=True)


class Client:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port):
        self.port = port
        self.connection = None

    def call(self, method, path, token=None, body=None, expect=200):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if isinstance(body, bytes):
            data = body
            headers["Content-Type"] = "application/pdf"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body=data, headers=headers)
                answer = self.connection.getresponse()
                payload = answer.read()
                break
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        if answer.status != expect:
            raise Failure(f"{method} {path} answered {answer.status}, not {expect}: {payload[:400]!r}")
        if payload and answer.getheader("Content-Type", "").startswith(("application/json", "application/problem+json")):
            return json.loads(payload)
        return payload


# ---------------------------------------------------------------------------------------------------------------------
# The consortia: prepared by SQL, as Benchmarks/BidBenchmark/generate.sql does, but without bids (those are made
# over HTTP here). Each lead and partner unit has one admin with a session token 'wal-lead-<n>' / 'wal-partner-<n>'.

CONSORTIA_SQL = r"""
\set ON_ERROR_STOP on
BEGIN;
CREATE FUNCTION pg_temp.credit_code(prefix text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT prefix || substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
        (31 - (SELECT sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(prefix, i, 1)) - 1)
                          * (ARRAY[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])[i])
               FROM generate_series(1, 17) AS i)::int % 31) % 31 + 1, 1)
$$;
CREATE TABLE wal_consortia (n integer PRIMARY KEY, lead bigint, partner bigint, lead_user bigint, partner_user bigint,
                            challenge bigint, indicators integer);
INSERT INTO wal_consortia (n, challenge, indicators)
SELECT n, c.id, cardinality(c.indicators)
FROM generate_series(1, :count) AS n,
     LATERAL (SELECT id, indicators FROM challenges WHERE status = 'published' ORDER BY id OFFSET n % 10 LIMIT 1) c;
WITH inserted AS (
    INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email, verification, decided_at)
    SELECT 'enterprise', 'WAL测量牵头企业' || n, pg_temp.credit_code('91620100BL' || lpad(n::text, 7, '0')), '620100',
           '{private}', '王工', '0931-8000000', 'lead@example.cn', 'verified', now()
    FROM wal_consortia RETURNING id, credit_code)
UPDATE wal_consortia c SET lead = i.id FROM inserted i WHERE substr(i.credit_code, 11, 7)::int = c.n;
WITH inserted AS (
    INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email, verification, decided_at)
    SELECT 'university', 'WAL测量参与单位' || n, pg_temp.credit_code('12620300BP' || lpad(n::text, 7, '0')), '620300',
           '{}', '李老师', '0935-8000000', 'partner@example.cn', 'verified', now()
    FROM wal_consortia RETURNING id, credit_code)
UPDATE wal_consortia c SET partner = i.id FROM inserted i WHERE substr(i.credit_code, 11, 7)::int = c.n;
WITH inserted AS (
    INSERT INTO users (login, display_name, role, unit_id)
    SELECT 'wal.lead' || n, '测量牵头' || n, 'unit_admin', lead FROM wal_consortia RETURNING id, unit_id)
UPDATE wal_consortia c SET lead_user = i.id FROM inserted i WHERE i.unit_id = c.lead;
WITH inserted AS (
    INSERT INTO users (login, display_name, role, unit_id)
    SELECT 'wal.partner' || n, '测量参与' || n, 'unit_admin', partner FROM wal_consortia RETURNING id, unit_id)
UPDATE wal_consortia c SET partner_user = i.id FROM inserted i WHERE i.unit_id = c.partner;
INSERT INTO access_tokens (user_id, token_hash, kind, expires_at)
SELECT lead_user, sha256(convert_to('wal-lead-' || n, 'UTF8')), 'session', now() + interval '1 day' FROM wal_consortia
UNION ALL
SELECT partner_user, sha256(convert_to('wal-partner-' || n, 'UTF8')), 'session', now() + interval '1 day' FROM wal_consortia;
COMMIT;
SELECT n, partner, challenge, indicators FROM wal_consortia ORDER BY n;
"""

# One e-mail as a notification writes it (EmailDeliveries.enqueue): the notice, the message and its job, in one
# transaction. QUEUE is 'default' (the worker runs it) or 'holding' (no worker serves it: the enqueue alone).
ENQUEUE_SQL = """WITH n AS (
    INSERT INTO notifications (user_id, occasion, subject, title, body)
    SELECT id, 'bid.returned', 'wal:{tag}', '申请被退回修改', '请根据形式审查意见修改申报材料后重新提交。' FROM users WHERE login = 'demo.unit'
    RETURNING id, created_at),
m AS (INSERT INTO email_messages (notification_id, address, created_at)
      SELECT id, 'unit-admin@example.com', created_at FROM n RETURNING id)
INSERT INTO jobs (kind, queue, args, max_attempts) SELECT 'email.send', '{queue}', jsonb_build_object('message', m.id), 10 FROM m;
"""


# The worker's cron schedules (Workers/ProductJobs.swift, `schedules()`). A schedule missing here would run in
# the job windows: the table's last line counts the other jobs that finished there.
CRON_SCHEDULES = ["challenges.close_expired", "idempotency_keys.prune", "audit.seal", "audit.verify",
                  "acceptance.expire_rectifications"] + [
    f"reminders.{scan}" for scan in ("application-deadlines", "review-deadlines", "progress-reports",
                                     "acceptance-overdue", "milestones", "recommendations")]


class Measurements:
    def __init__(self, stage, first):
        self.stage = stage
        self.first = first
        self.rows = []

    def measure(self, name, items, run, first=None, settle=SETTLE):
        """Runs `run(batch)` on the first items one at a time after a CHECKPOINT each, then on the rest in one window."""
        stage = self.stage
        first = self.first if first is None else first
        firsts = []
        for item in items[:first]:
            stage.checkpoint()
            start = stage.lsn()
            run([item])
            time.sleep(settle)
            firsts.append(stage.window(start, stage.lsn()))
        rest = items[first:]
        steady = None
        if rest:
            stage.checkpoint()
            start = stage.lsn()
            run(rest)
            time.sleep(settle)
            steady = stage.window(start, stage.lsn())
        row = {"name": name, "first_n": len(firsts), "steady_n": len(rest),
               "first": mean_window(firsts), "steady": per_operation(steady, len(rest))}
        self.rows.append(row)
        note(f"{name}: first {fmt(row['first'], 'bytes')} B, steady {fmt(row['steady'], 'bytes')} B per operation")
        return row

    def add(self, name, count, window, first_n=0):
        row = {"name": name, "first_n": first_n, "steady_n": count, "first": None, "steady": per_operation(window, count)}
        self.rows.append(row)
        note(f"{name}: {fmt(row['steady'], 'bytes')} B per operation")
        return row


def per_operation(window, count):
    if window is None or count == 0:
        return None
    return {k: (v / count if v is not None else None) for k, v in window.items()}


def mean_window(windows):
    if not windows:
        return None
    return {k: (sum(w[k] for w in windows) / len(windows) if all(w[k] is not None for w in windows) else None)
            for k in windows[0]}


def fmt(window, key):
    if window is None or window.get(key) is None:
        return "-"
    return f"{window[key]:,.0f}"


def fpi_share(window):
    if window is None or not window.get("bytes") or window.get("fpi_bytes") is None:
        return "-"
    return f"{100 * window['fpi_bytes'] / window['bytes']:.0f}%"


def pdf(size):
    """A PDF-looking file of `size` bytes that does not compress (random bytes inside), as scripts/faults.py makes."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    tail = b"\n%%EOF\n"
    return head + os.urandom(size - len(head) - len(tail)) + tail


def bid_content(indicators):
    return {
        "technicalRoute": "采用产学研联合攻关的技术路线：小试、中试到工程化验证，分三个阶段完成关键技术突破。",
        "rdFoundation": "牵头单位拥有省级企业技术中心和中试基地，参与单位具备完整的检测分析平台。",
        "indicatorAnswers": ["达到或优于指标要求"] * indicators,
        "totalInvestmentFen": 1_000_000_000, "selfFundingFen": 500_000_000, "requestedFundingFen": 100_000_000,
        "team": [{"name": "王强", "title": "正高级工程师", "unit": "牵头单位", "role": "项目负责人"},
                 {"name": "孙丽", "title": "高级工程师", "unit": "参与单位", "role": "检测负责人"}],
        "completionCommitment": True,
    }


def wait_jobs_done(stage, timeout=300):
    deadline = time.monotonic() + timeout
    while True:
        left = int(stage.psql("SELECT count(*) FROM jobs WHERE queue = 'default' "
                              "AND state IN ('available', 'running', 'retryable')"))
        if left == 0:
            return
        if time.monotonic() > deadline:
            raise Failure(f"{left} jobs still not finished after {timeout} s")
        time.sleep(0.1)


def run(stage, args):
    m = Measurements(stage, args.first)
    started = time.monotonic()
    note(f"fresh folder {stage.root}")
    stage.start_cluster()
    stage.jiebang("seed-demo", "--accounts-password", stage.password)
    version = stage.psql("SHOW server_version")
    stage.psql("ALTER SYSTEM SET autovacuum = off")
    stage.psql(f"ALTER SYSTEM SET wal_compression = '{args.wal_compression}'")
    stage.psql("SELECT pg_reload_conf()")
    note(f"preparing {args.bids} consortia by SQL")
    rows = stage.psql("", stdin=CONSORTIA_SQL.replace(":count", str(int(args.bids))))
    consortia = [dict(zip(("n", "partner", "challenge", "indicators"), map(int, line.split("|"))))
                 for line in rows.splitlines() if line.count("|") == 3]
    if len(consortia) != args.bids:
        raise Failure(f"prepared {len(consortia)} consortia, not {args.bids}")
    stage.psql("VACUUM ANALYZE")
    settings = stage.psql("SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN "
                          "('wal_level', 'full_page_writes', 'wal_compression', 'autovacuum', 'synchronous_commit')")
    stage.start_server()
    note(f"jiebang serve (pid {stage.server.pid}) on port {stage.port}")
    client = Client(stage.port)

    # Reads first: nothing to write.
    m.measure("board: GET /v1/board/challenges?q=稀土", list(range(args.reads)),
              lambda batch: [client.call("GET", "/v1/board/challenges?q=%E7%A8%80%E5%9C%9F") for _ in batch])
    m.measure("board page: GET /?q=稀土", list(range(args.reads)),
              lambda batch: [client.call("GET", "/?q=%E7%A8%80%E5%9C%9F") for _ in batch])

    m.measure("sign-in: POST /v1/sessions", list(range(args.sign_ins)),
              lambda batch: [client.call("POST", "/v1/sessions", body={"login": "demo.unit", "password": stage.password},
                                         expect=201) for _ in batch])

    bids = {}

    def create(batch):
        for c in batch:
            bid = client.call("POST", f"/v1/challenges/{c['challenge']}/bids", token=f"wal-lead-{c['n']}",
                              body=bid_content(c["indicators"]), expect=201)
            bids[c["n"]] = bid["id"]

    def invite(batch):
        for c in batch:
            client.call("POST", f"/v1/bids/{bids[c['n']]}/members", token=f"wal-lead-{c['n']}",
                        body={"unitID": c["partner"]}, expect=201)

    def accept(batch):
        for c in batch:
            client.call("POST", f"/v1/bids/{bids[c['n']]}/members/{c['partner']}/response",
                        token=f"wal-partner-{c['n']}",
                        body={"accept": True, "part": {"partRole": "检测分析", "tasks": "负责性能测试与失效分析",
                                                       "budgetShareFen": 50_000_000, "contribution": "检测平台与研究生团队"}})

    def upload(batch):
        for c in batch:
            client.call("POST", f"/v1/bids/{bids[c['n']]}/attachments?filename=%E6%8A%80%E6%9C%AF%E6%96%B9%E6%A1%88.pdf",
                        token=f"wal-lead-{c['n']}", body=pdf(args.attachment_kib * 1024), expect=201)

    def submit(batch):
        for c in batch:
            receipt = client.call("POST", f"/v1/bids/{bids[c['n']]}/submit", token=f"wal-lead-{c['n']}")
            if len(receipt.get("sha256", "")) != 64:
                raise Failure(f"the submission of bid {bids[c['n']]} has no receipt")

    bid_rows = [
        m.measure("bid: draft created (POST /v1/challenges/{id}/bids)", consortia, create),
        m.measure("bid: partner invited (POST /v1/bids/{id}/members)", consortia, invite),
        m.measure("bid: partner accepts (POST …/members/{unit}/response)", consortia, accept),
    ]
    upload_row = m.measure(f"bid: a {args.attachment_kib} KiB PDF attached (POST /v1/bids/{{id}}/attachments; "
                           f"random bytes, which do not compress)", consortia[:args.uploads], upload)
    bid_rows.append(m.measure("bid: submitted (POST /v1/bids/{id}/submit)", consortia, submit))
    submitted = int(stage.psql("SELECT count(*) FROM bids WHERE status = 'submitted' AND lead_unit_id IN "
                               "(SELECT lead FROM wal_consortia)"))
    if submitted != args.bids:
        raise Failure(f"{submitted} bids submitted, not {args.bids}")

    # The audit chain: the entries the bids wrote, sealed by one `jiebang audit seal` (the audit.seal job's work).
    unsealed = int(stage.psql("SELECT count(*) FROM audit_log a WHERE NOT EXISTS "
                              "(SELECT 1 FROM audit_seals s WHERE s.audit_id = a.id)"))
    stage.checkpoint()
    start = stage.lsn()
    stage.jiebang("audit", "seal")
    seal = m.add(f"audit seal, per entry sealed ({unsealed} entries, {unsealed / args.bids:.1f} per bid)",
                 unsealed, stage.window(start, stage.lsn()))

    # Jobs: an `email.send` job (the product's most frequent kind) run by a `jiebang work` to an SMTP sink.
    # The cron is held before the worker starts: every schedule's last slot in the year 2999, so no slot is due.
    held = stage.psql("INSERT INTO cron_schedules (name, last_slot) SELECT unnest(ARRAY[%s]), '2999-01-01' "
                      "ON CONFLICT (name) DO UPDATE SET last_slot = excluded.last_slot RETURNING name"
                      % ", ".join(f"'{name}'" for name in CRON_SCHEDULES))
    stage.start_sink()
    stage.start_worker()
    note(f"jiebang work (pid {stage.worker.pid}); cron held: {len(held.splitlines())} schedules")
    time.sleep(2)
    wait_jobs_done(stage)

    counter = iter(range(10**9))

    def enqueue(queue):
        def go(batch):
            stage.psql("", stdin="".join(ENQUEUE_SQL.format(tag=next(counter), queue=queue) for _ in batch))
            if queue == "default":
                wait_jobs_done(stage)
        return go

    enqueue_row = m.measure("job: email.send enqueued (notice + message + job, one transaction; no worker on its queue)",
                            list(range(args.jobs)), enqueue("holding"))
    total_row = m.measure("job: email.send enqueued and run by `jiebang work` (claim, SMTP, complete)",
                          list(range(args.jobs)), enqueue("default"))
    states = stage.psql("SELECT string_agg(state || '×' || n, ' ') FROM (SELECT state, count(*) n FROM jobs "
                        "WHERE kind = 'email.send' AND queue = 'default' GROUP BY state ORDER BY state) s")
    sent = int(stage.psql("SELECT count(*) FROM email_messages WHERE status = 'sent'"))
    if sent != args.jobs:
        raise Failure(f"{sent} e-mails sent, not {args.jobs} (jobs: {states})")
    other = stage.psql("SELECT count(*) FROM jobs WHERE kind <> 'email.send' AND created_at > now() - interval '1 hour' "
                       "AND finished_at > (SELECT min(created_at) FROM jobs WHERE kind = 'email.send' AND queue = 'default')")

    # Nothing: serve and work idle.
    start = stage.lsn()
    time.sleep(args.idle)
    idle = stage.window(start, stage.lsn())

    # VACUUM of everything the run wrote (what autovacuum would do later).
    start = stage.lsn()
    stage.psql("VACUUM")
    vacuum = stage.window(start, stage.lsn())

    # The table.
    print()
    print(f"WAL per operation: PostgreSQL {version}; {settings}; {args.bids} bids, {args.jobs} jobs; "
          f"{time.monotonic() - started:.0f} s")
    print()
    print("| operation | repetitions (first / steady) | WAL bytes, first after a checkpoint | WAL bytes, steady | "
          "FPI share, steady | WAL records, steady |")
    print("|---|---|---|---|---|---|")
    for row in m.rows:
        print(f"| {row['name']} | {row['first_n']} / {row['steady_n']} | {fmt(row['first'], 'bytes')} | "
              f"{fmt(row['steady'], 'bytes')} | {fpi_share(row['steady'])} | {fmt(row['steady'], 'records')} |")

    def total(rows, key):
        values = [r[key]["bytes"] for r in rows if r[key] is not None]
        return sum(values) if len(values) == len(rows) else None

    first_bid, steady_bid = total(bid_rows, "first"), total(bid_rows, "steady")
    per_bid_seal = seal["steady"]["bytes"] * unsealed / args.bids
    print(f"| **a bid, draft to submitted** (the four bid rows) | | {first_bid:,.0f} | {steady_bid:,.0f} | | |")
    print(f"| **a bid with one {args.attachment_kib} KiB PDF** (the four bid rows and the upload) | | "
          f"{first_bid + upload_row['first']['bytes']:,.0f} | {steady_bid + upload_row['steady']['bytes']:,.0f} | | |")
    print(f"| **a bid with its audit entries sealed** | | {first_bid + per_bid_seal:,.0f} | {steady_bid + per_bid_seal:,.0f} | | |")
    run_first = total_row["first"]["bytes"] - enqueue_row["first"]["bytes"]
    run_steady = total_row["steady"]["bytes"] - enqueue_row["steady"]["bytes"]
    print(f"| job: running it (the difference of the two job rows) | | {run_first:,.0f} | {run_steady:,.0f} | | |")
    print(f"| nothing: serve and work idle for {args.idle:.0f} s (cron held) | | | {idle['bytes']:,} in all | | |")
    print(f"| VACUUM of the database after the run | | | {vacuum['bytes']:,} in all ({vacuum['bytes'] / args.bids:,.0f} per bid) | "
          f"{fpi_share(vacuum)} | |")
    print()
    print(f"jobs: {states}; e-mails sent {sent}; other jobs finished during the job windows: {other}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the jiebang executable")
    parser.add_argument("--bids", type=int, default=100, help="consortia, each drafting and submitting one bid (100)")
    parser.add_argument("--jobs", type=int, default=300, help="email.send jobs (300)")
    parser.add_argument("--sign-ins", type=int, default=30, help="sign-ins (30)")
    parser.add_argument("--reads", type=int, default=200, help="board reads of each kind (200)")
    parser.add_argument("--uploads", type=int, default=20, help="bids that get one PDF attached (20)")
    parser.add_argument("--attachment-kib", type=int, default=1024, help="size of each PDF in KiB (1024)")
    parser.add_argument("--first", type=int, default=5, help="operations measured alone after their own CHECKPOINT (5)")
    parser.add_argument("--idle", type=float, default=5, help="seconds of the idle window (5)")
    parser.add_argument("--wal-compression", default="off", help="wal_compression during the run: off, pglz, lz4, zstd")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args()
    if min(args.bids, args.jobs, args.sign_ins, args.reads, args.uploads) <= args.first or args.uploads > args.bids:
        parser.error("every count must be larger than --first")
    stage = Stage(os.path.abspath(args.bin), args.keep)

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    status = 1
    try:
        run(stage, args)
        status = 0
    except Failure as failure:
        print(f"\nwal-per-operation: FAILED: {failure}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        status = 130
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stage.cleanup()
        note("stopped the server, the worker and the database" + ("" if args.keep else f"; removed {stage.root}"))
    return status


if __name__ == "__main__":
    sys.exit(main())

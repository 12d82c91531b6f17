#!/usr/bin/env python3
"""High availability, proved: a Patroni cluster loses its primary, then switches over, under load.

Run it with `scripts/failover` (which installs Patroni and etcd when they are missing and builds the debug
`jiebang`). On loopback, in a fresh temporary folder, it starts one etcd member and three Patroni nodes
(PostgreSQL 15, synchronous replication on), creates the jiebang role and database, loads the demo
programme and thousands of consortia with a complete draft bid each (Benchmarks/BidBenchmark/generate.sql),
and starts `jiebang serve` and two `jiebang work` processes, all with one libpq multi-host connection
string and `target_session_attrs=read-write`. Under a steady load (clients submitting bids over HTTP, a
feeder queueing `email.send` jobs that send to an SMTP sink this script runs) it

1. kills the primary's postmaster with SIGKILL (Patroni, which still holds the leader key, restarts it in
   place: crash recovery), and measures the time from the kill to the first successful submission;
2. once the cluster is whole again, loses the primary's machine: its Patroni and its postmaster killed with
   SIGKILL together, so the leader key expires and Patroni promotes the synchronous standby; measures the
   same, checks the acknowledged submissions on the promoted standby, then starts that node's Patroni again
   (it rejoins as a standby, as a host that comes back would);
3. once the cluster is whole again, runs a planned `patronictl switchover`, and measures the write gap;

then checks every acknowledged submission by id on the primary, every job and every e-mail. It prints one
table, stops and removes everything at the end (also on failure), and exits 1 when an acknowledged
submission is missing, a job was lost or its e-mail sent beyond its attempts, an answer was a 500 (or a
5xx other than 503, or a 503 without Retry-After), a request hung, or a jiebang process died (no process
is ever restarted by hand). Only the Python standard library is used.
"""

import argparse
import asyncio
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in scripts/ from the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import Connection, SMTPSink, free_port  # noqa: E402  (the same HTTP client and SMTP sink)

HUNG = 40.0  # seconds: a request not answered by then hung (the statement timeout is 30 s)
PG_BIN = "/usr/lib/postgresql/15/bin"


class FailoverFailure(Exception):
    """Something the script could not set up or measure."""


def note(text):
    print(f"failover: {text}", flush=True)


class Stage:
    def __init__(self, binary, bids):
        self.binary = binary
        self.bids = bids
        self.data = tempfile.mkdtemp(prefix="jiebang-failover.")
        os.chmod(self.data, 0o755)  # the `postgres` OS user runs the nodes and must reach their folders
        self.postgres_user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self.superuser_password = "su-" + os.urandom(8).hex()
        self.password = "jb-" + os.urandom(8).hex()
        self.accounts_password = "failover-" + os.urandom(8).hex()
        self.etcd_client = free_port()
        self.etcd_peer = free_port()
        self.nodes = [{"name": f"node{i}", "port": free_port(), "rest": free_port()} for i in range(3)]
        self.processes = []  # (name, Popen) of everything this script started
        self.etcd = None
        self.patroni = {}
        self.server = None
        self.workers = []
        self.http_port = free_port()
        hosts = ",".join(f"127.0.0.1:{n['port']}" for n in self.nodes)
        self.database_url = (f"postgresql://jiebang:{self.password}@{hosts}/jiebang"
                             "?target_session_attrs=read-write&connect_timeout=2")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE", "PGUSER",
                                 "PGPASSWORD", "JIEBANG_DATA_DIR")}
        # The public board reads from the standbys (the primary only when none answers).
        self.read_url = (f"postgresql://jiebang:{self.password}@{hosts}/jiebang"
                         "?target_session_attrs=prefer-standby&connect_timeout=2")
        self.env.update(DATABASE_URL=self.database_url, JIEBANG_READ_DATABASE_URL=self.read_url,
                        JIEBANG_PORT=str(self.http_port), JIEBANG_HOST="127.0.0.1",
                        LOG_LEVEL=os.environ.get("LOG_LEVEL", "warning"))

    # -- processes -------------------------------------------------------------------------------------------------

    def log(self, name):
        return open(os.path.join(self.data, f"{name}.log"), "a")

    def as_postgres(self):
        if self.postgres_user is None:
            return None
        user = self.postgres_user

        def demote():
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        return demote

    def start_etcd(self):
        folder = os.path.join(self.data, "etcd")
        peer = f"http://127.0.0.1:{self.etcd_peer}"
        client = f"http://127.0.0.1:{self.etcd_client}"
        self.etcd = subprocess.Popen(
            ["etcd", "--name", "e0", "--data-dir", folder, "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", f"e0={peer}",
             "--initial-cluster-state", "new", "--enable-v2=true"],
            stdout=self.log("etcd"), stderr=subprocess.STDOUT)
        self.processes.append(("etcd", self.etcd))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{client}/health", timeout=1) as answer:
                    if b"true" in answer.read():
                        return
            except OSError:
                pass
            if self.etcd.poll() is not None:
                raise FailoverFailure(f"etcd exited {self.etcd.returncode}; see {self.data}/etcd.log")
            time.sleep(0.2)
        raise FailoverFailure("etcd is not healthy after 30 s")

    def patroni_config(self, node):
        folder = os.path.join(self.data, node["name"])
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if self.postgres_user:
            os.chown(folder, self.postgres_user.pw_uid, self.postgres_user.pw_gid)
        config = {
            "scope": "jiebang-failover",
            "name": node["name"],
            "restapi": {"listen": f"127.0.0.1:{node['rest']}", "connect_address": f"127.0.0.1:{node['rest']}"},
            "etcd3": {"hosts": f"127.0.0.1:{self.etcd_client}"},
            "bootstrap": {
                "dcs": {
                    # A lost leader key is taken over after ttl; Patroni checks every loop_wait.
                    "ttl": 20, "loop_wait": 2, "retry_timeout": 5, "maximum_lag_on_failover": 1048576,
                    # Commits wait for one synchronous standby, and Patroni promotes only that standby, so an
                    # acknowledged commit survives the loss of the primary. Not strict: with two standbys one is
                    # always there; strict would stop every write if both were lost.
                    "synchronous_mode": True, "synchronous_mode_strict": False,
                    "postgresql": {"use_pg_rewind": True, "use_slots": True,
                                   "parameters": {"max_connections": 200, "wal_log_hints": "on",
                                                  "hot_standby": "on", "wal_keep_size": "256MB"}},
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{node['port']}",
                "connect_address": f"127.0.0.1:{node['port']}",
                "data_dir": os.path.join(folder, "data"),
                "bin_dir": PG_BIN,
                "pgpass": os.path.join(folder, "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": self.superuser_password},
                    "replication": {"username": "replicator", "password": self.superuser_password},
                    "rewind": {"username": "postgres", "password": self.superuser_password},
                },
                "parameters": {"unix_socket_directories": folder, "shared_buffers": "64MB"},
                "pg_hba": ["local all all trust",
                           "host replication replicator 127.0.0.1/32 scram-sha-256",
                           "host all all 127.0.0.1/32 scram-sha-256"],
            },
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
        }
        path = os.path.join(self.data, f"{node['name']}.yml")
        with open(path, "w") as handle:
            json.dump(config, handle, indent=1)  # JSON is YAML
        os.chmod(path, 0o644)
        node["config"] = path
        node["data_dir"] = config["postgresql"]["data_dir"]
        return path

    def start_patroni(self, node):
        process = subprocess.Popen(["patroni", node["config"]], stdout=self.log(node["name"]), stderr=subprocess.STDOUT,
                                   preexec_fn=self.as_postgres(), cwd=self.data)
        self.patroni[node["name"]] = process
        self.processes.append((node["name"], process))

    def rest(self, node, path):
        """(status, JSON) of a node's REST API, or (None, None) when it does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{node['rest']}{path}", timeout=2) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.loads(error.read() or b"null")
            except ValueError:
                return error.code, None
        except (OSError, ValueError):
            return None, None

    def cluster(self):
        for node in self.nodes:
            status, body = self.rest(node, "/cluster")
            if status == 200 and body:
                return body
        return None

    def leader(self):
        body = self.cluster()
        if not body:
            return None
        for member in body.get("members", []):
            if member.get("role") == "leader" and member.get("state") == "running":
                return next(n for n in self.nodes if n["name"] == member["name"])
        return None

    def wait_whole(self, timeout=180):
        """Waits for a running leader, two streaming replicas and a synchronous standby."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            body = self.cluster()
            if body:
                members = body.get("members", [])
                last = [(m.get("name"), m.get("role"), m.get("state")) for m in members]
                roles = sorted(m.get("role") for m in members if m.get("state") in ("running", "streaming"))
                if len(members) == 3 and roles.count("leader") == 1 and "sync_standby" in roles and \
                        all(m.get("state") in ("running", "streaming") for m in members) and \
                        all(m.get("lag", 0) in (0, None) or m.get("role") == "leader" for m in members):
                    return next(n for n in self.nodes if n["name"] == next(m["name"] for m in members
                                                                           if m["role"] == "leader"))
            time.sleep(0.5)
        raise FailoverFailure(f"the cluster is not whole after {timeout} s: {last}")

    def psql(self, sql, node=None, database="jiebang", superuser=False, timeout=60):
        if node is None:
            url = self.database_url
        else:
            user = "postgres" if superuser else "jiebang"
            password = self.superuser_password if superuser else self.password
            url = f"postgresql://{user}:{password}@127.0.0.1:{node['port']}/{database}?connect_timeout=2"
        result = subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise FailoverFailure(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def jiebang(self, *args):
        result = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise FailoverFailure(f"jiebang {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-800:]}")
        return result

    def start_server(self):
        self.server = subprocess.Popen([self.binary, "serve", "--no-with-workers"], env=self.env,
                                       stdout=self.log("serve"), stderr=subprocess.STDOUT)
        self.processes.append(("serve", self.server))
        self.wait_ready(self.http_port, self.server, "jiebang serve")

    def start_worker(self, smtp_port):
        port = free_port()
        env = dict(self.env, SMTP_URL=f"smtp://127.0.0.1:{smtp_port}", MAIL_FROM="揭榜挂帅平台 <noreply@example.gov.cn>")
        process = subprocess.Popen([self.binary, "work", "--port", str(port), "--queues", "default=4"], env=env,
                                   stdout=self.log("work"), stderr=subprocess.STDOUT)
        self.workers.append(process)
        self.processes.append(("work", process))
        self.wait_ready(port, process, "jiebang work")
        return process

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
                raise FailoverFailure(f"{name} exited {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise FailoverFailure(f"{name} is not ready after {timeout} s")
            time.sleep(0.2)

    def cleanup(self, failed):
        # jiebang first (it would log the cluster's end), then Patroni (it stops PostgreSQL), then etcd.
        order = [p for p in self.processes if p[0] in ("serve", "work")] + \
                [p for p in self.processes if p[0].startswith("node")] + [p for p in self.processes if p[0] == "etcd"]
        for group in (("serve", "work"), ("node",), ("etcd",)):
            members = [(n, p) for n, p in order if n.startswith(group)]
            for _, process in members:
                if process.poll() is None:
                    process.terminate()
            for _, process in members:
                try:
                    process.wait(timeout=45)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        # A postmaster Patroni could not stop (for example one left behind by a killed Patroni).
        for node in self.nodes:
            pid_file = os.path.join(node.get("data_dir", "/nonexistent"), "postmaster.pid")
            try:
                with open(pid_file) as handle:
                    pid = int(handle.readline())
                os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
        if failed:
            for name in ("serve", "work"):
                path = os.path.join(self.data, f"{name}.log")
                if os.path.exists(path):
                    with open(path, errors="replace") as handle:
                        lines = handle.readlines()[-20:]
                    if lines:
                        print(f"failover: the last lines of {name}.log:", file=sys.stderr)
                        sys.stderr.writelines("      " + line for line in lines)
        if os.environ.get("FAILOVER_KEEP") == "1":
            note(f"kept {self.data}")
        else:
            shutil.rmtree(self.data, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------------
# The load


class Submissions:
    """Clients submitting draft bids over HTTP, each bid once it is acknowledged (2xx), retried after a 503."""

    def __init__(self, stage, clients, pause):
        self.stage = stage
        self.clients = clients
        self.pause = pause
        self.queue = list(range(1, stage.bids + 1))  # consortium numbers; bid ids are looked up
        self.bid_of = {}
        self.records = []  # (n, started, ended, status or 'hung'/'error', retry_after, content_type)
        self.acknowledged = {}  # n -> time of the 2xx
        self.retried = set()  # consortia whose submission got a 503 and is tried again
        self.running = True
        self.tasks = []

    def start(self):
        for index in range(self.clients):
            self.tasks.append(asyncio.ensure_future(self._client(index)))

    async def stop(self):
        self.running = False
        await asyncio.gather(*self.tasks)

    async def _client(self, index):
        connection = Connection(self.stage.http_port)
        while self.running and self.queue:
            n = self.queue.pop(0)
            started = time.monotonic()
            try:
                answer = await connection.request("POST", f"/v1/bids/{self.bid_of[n]}/submit", token=f"bench-{n}",
                                                  timeout=HUNG)
                ended = time.monotonic()
                status = answer.status
                self.records.append((n, started, ended, status, answer.headers.get("retry-after"),
                                     answer.headers.get("content-type", "")))
                if 200 <= status < 300:
                    self.acknowledged[n] = ended
                elif status == 409 and n in self.retried:
                    # A retry after a 503 whose submission had committed: it is submitted (checked at the end).
                    pass
                elif status == 503:
                    self.retried.add(n)
                    self.queue.insert(0, n)
            except asyncio.TimeoutError:
                self.records.append((n, started, time.monotonic(), "hung", None, ""))
                self.queue.insert(0, n)
            except (ConnectionError, OSError, asyncio.IncompleteReadError) as error:
                self.records.append((n, started, time.monotonic(), "error", None, type(error).__name__))
                self.queue.insert(0, n)
                await asyncio.sleep(0.2)
            await asyncio.sleep(self.pause)
        connection.close()


class BoardReaders:
    """Clients reading the public board over HTTP (served from the standbys) without pause."""

    def __init__(self, stage, clients):
        self.stage = stage
        self.clients = clients
        self.records = []  # (None, started, ended, status or 'hung'/'error', retry_after, content_type)
        self.running = True
        self.tasks = []

    def start(self):
        for _ in range(self.clients):
            self.tasks.append(asyncio.ensure_future(self._client()))

    async def stop(self):
        self.running = False
        await asyncio.gather(*self.tasks)

    async def _client(self):
        connection = Connection(self.stage.http_port)
        while self.running:
            started = time.monotonic()
            try:
                answer = await connection.request("GET", "/v1/board/challenges?limit=5", timeout=HUNG)
                self.records.append((None, started, time.monotonic(), answer.status, answer.headers.get("retry-after"),
                                     answer.headers.get("content-type", "")))
            except asyncio.TimeoutError:
                self.records.append((None, started, time.monotonic(), "hung", None, ""))
            except (ConnectionError, OSError, asyncio.IncompleteReadError) as error:
                self.records.append((None, started, time.monotonic(), "error", None, type(error).__name__))
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.02)
        connection.close()


class JobFeeder:
    """Queues `email.send` jobs in small batches through the multi-host URL; a batch is idempotent (by subject)."""

    def __init__(self, stage, per_batch, pause):
        self.stage = stage
        self.per_batch = per_batch
        self.pause = pause
        self.batches = 0
        self.failed = 0
        self.running = True
        self.task = None

    def start(self):
        self.task = asyncio.ensure_future(self._run())

    async def stop(self):
        self.running = False
        await self.task

    def sql(self, batch):
        first = batch * self.per_batch + 1
        last = first + self.per_batch - 1
        # As `EmailDeliveries.enqueue` writes them for notifications; a batch already there is not queued again.
        return f"""
            WITH recipient AS (SELECT id FROM users WHERE login = 'demo.unit'),
            n AS (
                INSERT INTO notifications (user_id, occasion, subject, title, body)
                SELECT recipient.id, 'bid.returned', 'failover:' || g, '申请被退回修改', '故障切换演练：第 ' || g || ' 封'
                FROM recipient, generate_series({first}, {last}) g
                WHERE NOT EXISTS (SELECT 1 FROM notifications WHERE subject = 'failover:{first}')
                RETURNING id, created_at),
            m AS (
                INSERT INTO email_messages (notification_id, address, created_at)
                SELECT id, 'failover@example.com', created_at FROM n ORDER BY id
                RETURNING id)
            INSERT INTO jobs (kind, args, max_attempts)
            SELECT 'email.send', jsonb_build_object('message', m.id), 25 FROM m"""

    async def _run(self):
        while self.running:
            try:
                await asyncio.to_thread(self.stage.psql, self.sql(self.batches), None, "jiebang", False, 20)
                self.batches += 1
            except (FailoverFailure, subprocess.TimeoutExpired):
                self.failed += 1  # the same batch is tried again
            await asyncio.sleep(self.pause)

    @property
    def jobs(self):
        return self.batches * self.per_batch


def successes(records):
    return sorted(r[2] for r in records if isinstance(r[3], int) and 200 <= r[3] < 300)


def first_success_after(records, instant):
    done = [r[2] for r in records if isinstance(r[3], int) and 200 <= r[3] < 300 and r[1] >= instant]
    return min(done) - instant if done else None


def largest_gap(records, start, end):
    """The longest time without a successful submission in [start, end]."""
    times = [start] + [t for t in successes(records) if start <= t <= end] + [end]
    return max(b - a for a, b in zip(times, times[1:]))


def counts(records):
    found = {}
    for r in records:
        found[r[3]] = found.get(r[3], 0) + 1
    return " ".join(f"{k}×{found[k]}" for k in sorted(found, key=str))


def bad(records):
    return [r for r in records if r[3] in ("hung", "error") or (isinstance(r[3], int) and r[3] >= 500 and r[3] != 503)
            or (r[3] == 503 and (not r[4] or "problem+json" not in r[5]))]


def jiebang_connections(stage, node):
    try:
        return int(stage.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'jiebang'",
                              node=node, database="postgres", superuser=True, timeout=10))
    except (FailoverFailure, subprocess.TimeoutExpired):
        return None


def missing(stage, numbers):
    """Consortia among `numbers` whose bid is not submitted on the primary."""
    if not numbers:
        return []
    listed = ",".join(str(n) for n in sorted(numbers))
    found = stage.psql(f"""
        SELECT c.n FROM bench_consortia c JOIN bids b ON b.id = c.bid
        WHERE c.n IN ({listed}) AND b.submitted_at IS NULL""")
    absent = stage.psql(f"SELECT count(*) FROM unnest('{{{listed}}}'::int[]) n WHERE n NOT IN (SELECT n FROM bench_consortia)")
    return [int(x) for x in found.split()] + ([-1] * int(absent))


# ---------------------------------------------------------------------------------------------------------------------
# The run


async def run(stage, rows, options):
    note(f"fresh folder {stage.data}; etcd on {stage.etcd_client}, PostgreSQL on "
         + ", ".join(str(n["port"]) for n in stage.nodes) + f", jiebang on {stage.http_port}")
    await asyncio.to_thread(stage.start_etcd)
    for node in stage.nodes:
        stage.patroni_config(node)
    stage.start_patroni(stage.nodes[0])
    await asyncio.to_thread(stage.leader_wait, 120)
    for node in stage.nodes[1:]:
        stage.start_patroni(node)
    leader = await asyncio.to_thread(stage.wait_whole)
    note(f"Patroni cluster whole, leader {leader['name']}")
    await asyncio.to_thread(stage.psql, f"CREATE ROLE jiebang LOGIN PASSWORD '{stage.password}'", leader, "postgres", True)
    await asyncio.to_thread(stage.psql, "CREATE DATABASE jiebang OWNER jiebang", leader, "postgres", True)
    await asyncio.to_thread(stage.jiebang, "seed-demo", "--accounts-password", stage.accounts_password)
    generate = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Benchmarks", "BidBenchmark", "generate.sql")
    result = await asyncio.to_thread(subprocess.run, ["psql", stage.database_url, "-X", "-q", "-v", f"count={stage.bids}",
                                                      "-v", "reference=0", "-f", generate], capture_output=True, text=True)
    if result.returncode != 0:
        raise FailoverFailure(f"generate.sql failed: {result.stderr.strip()[-600:]}")
    note(f"seeded the demo and {stage.bids:,} consortia with a draft bid each")
    sink = SMTPSink(delay=0.02)
    await sink.start()
    await asyncio.to_thread(stage.start_server)
    for _ in range(2):
        await asyncio.to_thread(stage.start_worker, sink.port)
    pids = {"serve": stage.server.pid, "work": [w.pid for w in stage.workers]}
    note(f"jiebang serve (pid {stage.server.pid}) and work (pids {pids['work']}) are ready")

    load = Submissions(stage, clients=options.clients, pause=options.pause)
    load.bid_of = {int(n): int(b) for n, b in (line.split("|") for line in (await asyncio.to_thread(
        stage.psql, "SELECT n, bid FROM bench_consortia")).splitlines())}
    feeder = JobFeeder(stage, per_batch=5, pause=0.25)
    readers = BoardReaders(stage, clients=2)
    started = time.monotonic()
    load.start()
    feeder.start()
    readers.start()
    await asyncio.sleep(options.steady)

    # 1. SIGKILL the primary's postmaster.
    victim = await asyncio.to_thread(stage.leader)
    with open(os.path.join(victim["data_dir"], "postmaster.pid")) as handle:
        postmaster = int(handle.readline())
    acked_before_kill = set(load.acknowledged)
    kill_at = time.monotonic()
    os.kill(postmaster, signal.SIGKILL)
    note(f"killed the postmaster (pid {postmaster}) of the primary {victim['name']}")
    while first_success_after(load.records, kill_at) is None and time.monotonic() - kill_at < 120:
        await asyncio.sleep(0.1)
    recovered = first_success_after(load.records, kill_at)
    after_kill_leader = await asyncio.to_thread(stage.wait_whole)
    whole_at = time.monotonic()
    note(f"first write {recovered} s after the kill; whole again, leader {after_kill_leader['name']}")
    lost_kill = await asyncio.to_thread(missing, stage, acked_before_kill)
    await asyncio.sleep(options.steady)

    # 2. The primary's machine lost: its Patroni and its postmaster killed together (SIGKILL), so nothing restarts
    # PostgreSQL there; the leader key expires (ttl) and Patroni promotes the synchronous standby. Then the machine
    # comes back (its Patroni started again: it rejoins as a standby), as an operator's host would.
    # (--quick, as the test command runs it, skips this: the leader key's expiry alone takes 20 s.)
    lost_node = promoted = None
    loss_at = promoted_at = loss_recovered = None
    lost_loss, in_loss, loss_gap = [], [], 0.0
    if not options.quick:
        lost_node = await asyncio.to_thread(stage.leader)
        with open(os.path.join(lost_node["data_dir"], "postmaster.pid")) as handle:
            lost_postmaster = int(handle.readline())
        acked_before_loss = set(load.acknowledged)
        loss_at = time.monotonic()
        stage.patroni[lost_node["name"]].send_signal(signal.SIGKILL)
        os.kill(lost_postmaster, signal.SIGKILL)
        note(f"killed {lost_node['name']}'s Patroni and postmaster (pid {lost_postmaster})")
        while first_success_after(load.records, loss_at) is None and time.monotonic() - loss_at < 120:
            await asyncio.sleep(0.1)
        loss_recovered = first_success_after(load.records, loss_at)
        promoted = await asyncio.to_thread(stage.leader_wait, 120)
        promoted_at = time.monotonic()
        lost_loss = await asyncio.to_thread(missing, stage, acked_before_loss)
        loss_gap = largest_gap(load.records, loss_at, promoted_at + 1)
        in_loss = [r for r in load.records if loss_at <= r[1] <= promoted_at + 1]
        note(f"first write {loss_recovered} s after the loss; {promoted['name']} promoted")
        stage.patroni[lost_node["name"]].wait()
        stage.start_patroni(lost_node)
        await asyncio.to_thread(stage.wait_whole)
        note(f"{lost_node['name']} rejoined")
        await asyncio.sleep(options.steady)

    # 3. A planned switchover to another node.
    old = await asyncio.to_thread(stage.leader)
    body = await asyncio.to_thread(stage.cluster)
    candidate = next(m["name"] for m in body["members"] if m["role"] == "sync_standby")
    acked_before_switch = set(load.acknowledged)
    switch_at = time.monotonic()
    result = await asyncio.to_thread(
        subprocess.run, ["patronictl", "-c", old["config"], "switchover", "--leader", old["name"], "--candidate",
                         candidate, "--force"], capture_output=True, text=True)
    if result.returncode != 0:
        raise FailoverFailure(f"patronictl switchover failed: {result.stderr.strip() or result.stdout.strip()}")
    switched_at = time.monotonic()
    new = await asyncio.to_thread(stage.wait_whole)
    whole_again_at = time.monotonic()
    note(f"switched over from {old['name']} to {new['name']} (patronictl took {switched_at - switch_at:.1f} s)")
    await asyncio.sleep(options.steady)
    ran_out = not load.queue  # the load must last until the end, or the measures after it ran out mean nothing
    await load.stop()
    await feeder.stop()
    await readers.stop()
    stopped = time.monotonic()

    # What happened.
    old_connections = await asyncio.to_thread(jiebang_connections, stage, old)
    new_connections = await asyncio.to_thread(jiebang_connections, stage, new)
    # A write through the old primary's connections, if the pool still had one, fails with 25006 (503): the
    # submissions after the switchover all went to the new primary.
    kill_gap = largest_gap(load.records, kill_at, whole_at)
    switch_gap = largest_gap(load.records, switch_at, whole_again_at)
    switch_first = first_success_after(load.records, switched_at)
    in_kill = [r for r in load.records if kill_at <= r[1] <= whole_at]
    in_switch = [r for r in load.records if switch_at <= r[1] <= whole_again_at]
    refused_kill = sum(1 for r in in_kill if r[3] == 503 and r[4])
    refused_switch = sum(1 for r in in_switch if r[3] == 503 and r[4])
    refused_loss = sum(1 for r in in_loss if r[3] == 503 and r[4])
    all_bad = bad(load.records)
    board_bad = bad(readers.records)
    board_in_faults = [r for r in readers.records
                       if kill_at <= r[1] <= whole_at or switch_at <= r[1] <= whole_again_at
                       or (loss_at is not None and loss_at <= r[1] <= promoted_at + 1)]
    board_writes_down = [r for r in readers.records
                         if any(start <= r[1] <= start + gap for start, gap in
                                [(kill_at, kill_gap), (switch_at, switch_gap)] + ([(loss_at, loss_gap)] if loss_at else []))]
    lost_switch = await asyncio.to_thread(missing, stage, acked_before_switch)
    lost_all = await asyncio.to_thread(missing, stage, set(load.acknowledged))
    # Jobs: every queued job completes, each e-mail arrives, none beyond its attempts.
    jobs = feeder.jobs
    deadline = time.monotonic() + 180
    while True:
        states = await asyncio.to_thread(stage.psql, "SELECT state, count(*) FROM jobs WHERE kind = 'email.send' GROUP BY 1")
        state = dict(line.split("|") for line in states.splitlines())
        done = int(state.get("completed", 0))
        if done >= jobs or time.monotonic() > deadline:
            break
        await asyncio.to_thread(stage.psql, "UPDATE jobs SET run_at = now() WHERE state = 'retryable' AND run_at > now()")
        await asyncio.sleep(1)
    queued = int(await asyncio.to_thread(stage.psql, "SELECT count(*) FROM notifications WHERE subject LIKE 'failover:%'"))
    attempts = dict(line.split("|") for line in (await asyncio.to_thread(
        stage.psql, "SELECT m.id || '@example.gov.cn', m.attempts FROM email_messages m JOIN notifications n "
                    "ON n.id = m.notification_id WHERE n.subject LIKE 'failover:%'")).splitlines())
    copies = {key.strip("<>"): count for key, count in sink.received.items()}
    distinct = sum(1 for key in attempts if key in copies)
    resent = sum(count - 1 for count in copies.values())
    repeated = sum(max(0, count - int(attempts.get(key, 0))) for key, count in copies.items())
    sent_rows = int(await asyncio.to_thread(
        stage.psql, "SELECT count(*) FROM email_messages m JOIN notifications n ON n.id = m.notification_id "
                    "WHERE n.subject LIKE 'failover:%' AND m.status = 'sent'"))
    jobs_lost = (queued - done) + (queued - distinct)
    await sink.stop()
    alive = [stage.server.poll() is None] + [w.poll() is None for w in stage.workers]
    same = stage.server.pid == pids["serve"] and [w.pid for w in stage.workers] == pids["work"]
    restarted = 0  # this script never restarts a jiebang process; a dead one fails the run below

    rows.extend([
        ("Primary's postmaster killed (SIGKILL)", f"{victim['name']} (pid {postmaster}); leader afterwards "
         f"{after_kill_leader['name']}"),
        ("Kill → first successful write", f"{recovered:.1f} s" if recovered is not None else "none within 120 s"),
        ("Longest write gap after the kill", f"{kill_gap:.1f} s (cluster whole again {whole_at - kill_at:.1f} s after the kill)"),
        ("Primary's machine lost (its Patroni and postmaster SIGKILL)", f"{lost_node['name']}; "
         f"{promoted['name']} promoted {promoted_at - loss_at:.1f} s after; the lost node's Patroni started again, rejoined"
         if lost_node else "skipped (--quick)"),
        ("Loss → first successful write", f"{loss_recovered:.1f} s (longest gap {loss_gap:.1f} s)"
         if loss_recovered is not None else ("skipped (--quick)" if options.quick else "none within 120 s")),
        ("Planned switchover (`patronictl switchover`)", f"{old['name']} → {new['name']}, patronictl returned after "
         f"{switched_at - switch_at:.1f} s"),
        ("Write gap of the switchover", f"{switch_gap:.1f} s (first write {switch_first:.1f} s after patronictl returned)"
         if switch_first is not None else f"{switch_gap:.1f} s"),
        ("503 with Retry-After (kill / machine lost / switchover)", f"{refused_kill} / {refused_loss} / {refused_switch}"),
        ("Answers that fail the run (500, other 5xx, 503 without Retry-After, hung, broken)", f"{len(all_bad)}"),
        ("Board reads (from the standbys): in all / during the faults / while writes were down",
         f"{counts(readers.records) or 'none'} / {counts(board_in_faults) or 'none'} / {counts(board_writes_down) or 'none'}"),
        ("Board answers that fail the run", f"{len(board_bad)}"),
        ("All answers", counts(load.records)),
        ("Submissions acknowledged (2xx)", f"{len(load.acknowledged):,} ({len(acked_before_kill):,} before the kill, "
         f"{len(acked_before_switch):,} before the switchover)"),
        ("Acknowledged before the kill, missing after it", f"{len(lost_kill)}"),
        ("Acknowledged before the machine was lost, missing on the promoted standby", f"{len(lost_loss)}"),
        ("Acknowledged before the switchover, missing after it", f"{len(lost_switch)}"),
        ("Acknowledged in all, missing at the end", f"{len(lost_all)}"),
        ("Jobs queued / completed (`email.send`)", f"{queued:,} / {done:,} (batches retried by the feeder: {feeder.failed})"),
        ("Jobs lost", f"{jobs_lost}"),
        ("E-mails beyond their attempts (effect twice)", f"{repeated} (resent with the same Message-ID after a commit "
         f"was cut: {resent}; messages sent {sent_rows:,})"),
        ("jiebang processes restarted by hand", f"{restarted} (serve and 2 work: same pids {'yes' if same else 'no'}, "
         f"alive {'yes' if all(alive) else 'no'})"),
        ("Pool: jiebang connections on the old / new primary after the switchover", f"{old_connections} / {new_connections}"),
        ("Load", f"{options.clients} HTTP clients submitting bids; {feeder.per_batch} jobs every {feeder.pause} s; "
         f"{stopped - started:.0f} s"),
    ])
    problems = []
    if recovered is None or (loss_recovered is None and not options.quick):
        problems.append("no write succeeded after the kill or the loss")
    if all_bad:
        problems.append(f"{len(all_bad)} bad answers: {counts(all_bad)}")
    if board_bad:
        problems.append(f"{len(board_bad)} bad board answers: {counts(board_bad)}")
    if not any(r[3] == 200 for r in board_writes_down):
        problems.append("the board answered nothing while writes were down")
    if lost_kill or lost_loss or lost_switch or lost_all:
        problems.append(f"acknowledged submissions missing: {sorted(set(lost_kill + lost_loss + lost_switch + lost_all))[:10]}")
    if jobs_lost or repeated or sent_rows != queued:
        problems.append(f"jobs lost {jobs_lost}, repeated {repeated}, sent {sent_rows} of {queued}")
    if ran_out:
        problems.append(f"the clients submitted all {stage.bids:,} bids before the end: run again with more --bids")
    if not all(alive) or not same:
        problems.append("a jiebang process died")
    return problems


def leader_wait(self, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leader = self.leader()
        if leader:
            return leader
        time.sleep(0.5)
    raise FailoverFailure(f"no Patroni leader after {timeout} s; see {self.data}/node0.log")


Stage.leader_wait = leader_wait


def print_table(rows, problems, seconds):
    print(f"\n## Fail-over ({seconds:.0f} s)\n")
    print("| Measure | Value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"| Result | {'FAIL: ' + '; '.join(problems) if problems else 'ok'} |")
    print(flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the jiebang executable")
    parser.add_argument("--bids", type=int, default=10000, help="consortia with a draft bid to submit (default 10000)")
    parser.add_argument("--clients", type=int, default=4, help="HTTP clients submitting bids (default 4)")
    parser.add_argument("--pause", type=float, default=0.05, help="each client's pause between submissions (s)")
    parser.add_argument("--steady", type=float, default=10, help="seconds of steady load before and after each fault")
    parser.add_argument("--quick", action="store_true",
                        help="the test command's short run: the kill and the switchover, not the machine loss; "
                             "4,000 bids and 4 s of steady load unless given")
    arguments = parser.parse_args()
    if arguments.quick:
        if "--bids" not in sys.argv:
            arguments.bids = 4000
        if "--steady" not in sys.argv:
            arguments.steady = 4
    for tool in ("etcd", "patroni", "patronictl", "psql"):
        if shutil.which(tool) is None:
            print(f"failover: {tool} is missing (scripts/failover installs it)", file=sys.stderr)
            return 1
    started = time.monotonic()
    stage = Stage(os.path.abspath(arguments.bin), arguments.bids)
    rows = []
    problems = ["did not finish"]

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    status = 1
    try:
        problems = asyncio.run(run(stage, rows, arguments))
        status = 1 if problems else 0
    except FailoverFailure as failure:
        problems = [str(failure)]
        print(f"\nfailover: FAILED: {failure}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("\nfailover: interrupted", file=sys.stderr, flush=True)
        status = 130
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
        print(f"\nfailover: stopped by a signal (exit status {status})", file=sys.stderr, flush=True)
    except Exception as error:  # a bug of the script itself, or an answer it could not read
        import traceback
        traceback.print_exc()
        problems = [repr(error)]
        print(f"\nfailover: FAILED: {error!r}", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stage.cleanup(failed=status != 0)
        note("stopped jiebang, Patroni, PostgreSQL and etcd"
             + ("" if os.environ.get("FAILOVER_KEEP") == "1" else "; removed " + stage.data))
    if rows:
        print_table(rows, problems, time.monotonic() - started)
    return status


if __name__ == "__main__":
    sys.exit(main())

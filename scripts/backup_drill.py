"""The backup and restore drill (scripts/backup-drill): base backup plus WAL archive, restored and checked.

1. A jiebang database on its own embedded PostgreSQL, with the demo loaded, WAL archiving on (archive_command
   copies each finished segment into an archive folder) and the audit trail sealed into its hash chain.
2. `pg_basebackup` takes a base backup while it runs.
3. More writes after the backup: an administrator created, the chain sealed again; the WAL segment switched so
   that the archive holds them. What the database holds then is recorded (counts, the chain's head, the board).
4. The backup is restored into a new data folder, with `restore_command` reading the archive and
   `recovery.signal`: PostgreSQL replays the archive to its end and promotes.
5. On the restored cluster: `jiebang migrate --status` shows nothing pending, `jiebang audit verify` holds,
   `jiebang serve` answers the board with the same challenges, and the counts and the chain's head are those
   recorded in step 3.
"""

import argparse
import json
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def postgres_bin(name):
    for version in ("17", "16", "15"):
        path = pathlib.Path(f"/usr/lib/postgresql/{version}/bin/{name}")
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if not found:
        sys.exit(f"backup-drill: {name} is not installed")
    return found


class Drill:
    def __init__(self, binary):
        self.binary = binary
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="jiebang-backup-drill."))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.archive = self.root / "archive"
        self.backup = self.root / "base"
        self.restored = self.root / "restored"
        self.socket = self.root / "restored-socket"
        self.as_postgres = os.geteuid() == 0
        self.server = None
        self.timings = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
        self.env.update({"JIEBANG_DATA_DIR": str(self.data), "LOG_LEVEL": "warning"})

    # -- helpers -----------------------------------------------------------------------------------
    def step(self, what, action):
        started = time.monotonic()
        result = action()
        self.timings.append((what, time.monotonic() - started))
        print(f"backup-drill: {what}: {time.monotonic() - started:.1f} s", flush=True)
        return result

    def jiebang(self, *args, env=None, check=True):
        result = subprocess.run([self.binary, *args], env=env or self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise SystemExit(f"backup-drill: jiebang {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-800:]}")
        return result

    def run(self, args, **kwargs):
        if self.as_postgres:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)

    def own(self, path):
        if self.as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)
            for folder, _, files in os.walk(path):
                os.chown(folder, entry.pw_uid, entry.pw_gid)
                for name in files:
                    os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)

    def source_url(self):
        out = self.jiebang("db", "status").stdout
        return next(line.split("=", 1)[1].strip('"') for line in out.splitlines() if line.startswith("DATABASE_URL="))

    def psql(self, url, sql):
        return self.run(["psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]).stdout.strip()

    def snapshot(self, url):
        counts = {}
        for table in ("programmes", "challenges", "bids", "units", "users", "audit_log", "audit_seals"):
            counts[table] = int(self.psql(url, f"SELECT count(*) FROM {table}"))
        counts["chain head"] = self.psql(url, "SELECT seq || ':' || encode(hash, 'hex') FROM audit_seals ORDER BY seq DESC LIMIT 1")
        return counts

    # -- the drill ---------------------------------------------------------------------------------
    def prepare(self):
        self.jiebang("db", "start")
        self.jiebang("seed-demo", "--accounts-password", "backup-drill-demo-password")
        self.cluster = pathlib.Path(next(line.split(" in ", 1)[1] for line in self.jiebang("db", "status").stdout.splitlines()
                                         if line.startswith("running in ")))
        self.jiebang("db", "stop")
        self.archive.mkdir()
        self.own(self.archive)
        with open(self.cluster / "pgdata" / "postgresql.conf", "a") as conf:
            conf.write(f"\n# The backup drill: every finished WAL segment is copied into the archive.\n"
                       f"wal_level = replica\narchive_mode = on\n"
                       f"archive_command = 'test ! -f {self.archive}/%f && cp %p {self.archive}/%f'\n")
        self.jiebang("db", "start")
        self.jiebang("audit", "seal")

    def base_backup(self):
        self.backup.mkdir()
        self.own(self.backup)
        url = self.source_url()
        self.run([postgres_bin("pg_basebackup"), "-d", url, "-D", str(self.backup), "-X", "stream", "-c", "fast", "--no-password"])

    def after_backup(self):
        env = dict(self.env, JIEBANG_ADMIN_PASSWORD="a drill administrator's password")
        self.jiebang("users", "create-admin", "--login", "drill.admin", "--name", "演练管理员", env=env)
        self.jiebang("audit", "seal")
        url = self.source_url()
        self.psql(url, "SELECT pg_switch_wal()")
        # Wait until the archiver copied the segment holding those writes.
        segment = self.psql(url, "SELECT last_archived_wal FROM pg_stat_archiver")
        for _ in range(100):
            current = self.psql(url, "SELECT last_archived_wal FROM pg_stat_archiver")
            if current and current != segment or (self.archive / segment).exists() if segment else False:
                break
            time.sleep(0.1)
        self.recorded = self.snapshot(url)
        self.board = self.board_ids(self.serve_and_get(dict(self.env)))

    def restore(self):
        self.jiebang("db", "stop")
        shutil.copytree(self.backup, self.restored)
        self.restored.chmod(0o700)
        (self.restored / "recovery.signal").write_text("")
        self.socket.mkdir()
        with open(self.restored / "postgresql.conf", "a") as conf:
            conf.write(f"\n# Restored by the backup drill: replay the archive to its end, then promote.\n"
                       f"archive_mode = off\nrestore_command = 'cp {self.archive}/%f %p'\n")
        # The same settings as the source's (max_connections must not be lower), on a socket folder of its own.
        settings = (self.restored / "jiebang.conf").read_text().splitlines()
        settings = [line for line in settings if not line.startswith("unix_socket_directories")]
        (self.restored / "jiebang.conf").write_text("\n".join(settings + [f"unix_socket_directories = '{self.socket}'"]) + "\n")
        self.own(self.restored)
        self.own(self.socket)
        log = self.root / "restore.log"
        log.touch()
        self.own(log)
        try:
            self.run([postgres_bin("pg_ctl"), "-D", str(self.restored), "-l", str(log), "-w", "-t", "120", "start"])
        except subprocess.CalledProcessError as error:
            raise SystemExit(f"backup-drill: the restored cluster did not start: {error.stderr.strip()}\n" + log.read_text()[-2000:])
        self.restored_url = f"host='{self.socket}' port=5432 user='jiebang' dbname='jiebang'"
        for _ in range(600):
            if self.psql(self.restored_url, "SELECT pg_is_in_recovery()") == "f":
                return
            time.sleep(0.1)
        raise SystemExit("backup-drill: the restored cluster did not leave recovery")

    def serve_and_get(self, env):
        port = free_port()
        env = dict(env, JIEBANG_PORT=str(port))
        server = subprocess.Popen([self.binary, "serve", "--no-with-workers", "--no-migrate"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None:
                        raise SystemExit(f"backup-drill: jiebang serve exited: {server.stderr.read()[-800:]}")
                    time.sleep(0.1)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/board/challenges?limit=100", timeout=10) as answer:
                return answer.status, json.load(answer)
        finally:
            server.terminate()
            server.wait(30)

    @staticmethod
    def board_ids(reply):
        status, body = reply
        if status != 200:
            raise SystemExit(f"backup-drill: the board answered {status}")
        return sorted(entry["id"] for entry in body.get("items", []))

    def check(self):
        env = dict(self.env, DATABASE_URL=self.restored_url)
        status = self.jiebang("migrate", "--status", env=env).stdout
        pending = [line for line in status.splitlines() if "pending" in line.lower()]
        verify = self.jiebang("audit", "verify", env=env, check=False)
        found = self.snapshot(self.restored_url)
        board = self.board_ids(self.serve_and_get(env))
        problems = []
        if pending:
            problems.append(f"migrations pending on the restored database: {pending}")
        if verify.returncode != 0:
            problems.append(f"audit verify failed: {verify.stdout.strip()} {verify.stderr.strip()[-400:]}")
        if found != self.recorded:
            problems.append(f"the restored database differs: recorded {self.recorded}, restored {found}")
        if board != self.board:
            problems.append(f"the board differs: {self.board} before, {board} restored")
        if self.psql(self.restored_url, "SELECT count(*) FROM users WHERE login = 'drill.admin'") != "1":
            problems.append("the administrator created after the base backup is missing: the archive was not replayed")
        return found, board, "; ".join(verify.stdout.strip().splitlines()), problems

    def stop(self):
        if self.restored.exists() and (self.restored / "postmaster.pid").exists():
            subprocess.run(([ "runuser", "-u", "postgres", "--"] if self.as_postgres else []) +
                           [postgres_bin("pg_ctl"), "-D", str(self.restored), "-m", "fast", "-w", "stop"], capture_output=True)
        self.jiebang("db", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    drill = Drill(args.bin)
    try:
        drill.step("a live database with the demo, WAL archiving on, the chain sealed", drill.prepare)
        drill.step("pg_basebackup of the running cluster", drill.base_backup)
        drill.step("writes after the backup, archived", drill.after_backup)
        drill.step("restore: the base backup, the archive replayed, promoted", drill.restore)
        found, board, verify, problems = drill.step("checks on the restored database", drill.check)
        size = sum(f.stat().st_size for f in drill.backup.rglob("*") if f.is_file())
        archived = len([f for f in drill.archive.iterdir() if f.is_file()])
        print()
        print("| what | value |")
        print("|---|---|")
        print(f"| base backup | {size / 1024 / 1024:.1f} MiB |")
        print(f"| WAL segments archived | {archived} |")
        for what, seconds in drill.timings:
            print(f"| {what} | {seconds:.1f} s |")
        print(f"| restored rows | " + ", ".join(f"{k} {v}" for k, v in found.items() if k != "chain head") + " |")
        print(f"| audit chain head | {found['chain head']} (as recorded before the restore) |")
        print(f"| audit verify on the restored database | {verify} |")
        print(f"| the board | {len(board)} challenges, the same ids |")
        if problems:
            print("\nbackup-drill: FAILED\n" + "\n".join(f"- {p}" for p in problems))
            sys.exit(1)
        print("\nbackup-drill: the restored database is the one backed up, with every write made after the base backup")
    finally:
        drill.stop()


if __name__ == "__main__":
    main()

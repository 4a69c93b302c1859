"""Benchmark of the OTP verification API (POST /api/v1/verify) for the bank's channels.

    .venv/bin/python -m bench.otp_verify                  # SQLite and PostgreSQL, c = 1, 8, 32
    .venv/bin/python -m bench.otp_verify --db postgres --concurrency 32 --duration 15

For each database it:
1. makes a fresh database: PostgreSQL ``nb_bench_<pid>`` on 127.0.0.1:5432 (dropped at
   the end), or a SQLite file in a temporary folder;
2. migrates it and registers customers with tokens in use and a channel key
   (bench/verify_fixtures.py, in a process of its own, through the real services);
3. starts the server: granian with ``--workers`` processes of ``--threads`` blocking
   threads (the API nodes' server), or with ``--server waitress`` that many waitress
   processes on one loopback port with SO_REUSEPORT (bench/verify_server.py), serving the
   real Django application in production mode, audit on;
4. drives it with ``wrk`` (bench/verify.lua) at each concurrency for ``--duration``
   seconds (at most 20): every request carries a correct code for the current time
   step of a token that has not used that step yet, so every one must be accepted;
   the responses are counted (accepted, rejected, locked, HTTP errors) and printed;
5. checks that the audit trail holds one ``otp.accepted`` record per accepted request;
6. stops the server and drops the database.

wrk runs as its own process; the server's processes are separate from it and from
this script. Without wrk (or with ``--client python``) a small threaded Python client
in this process drives the load instead (used by the smoke test; its numbers are not
comparable). Results are printed as a table and, with ``--json``, written for
bench/chart.py.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from netbank.oath.totp import totp

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LUA_SCRIPT = Path(__file__).with_name("verify.lua")
PATH = "/api/v1/verify"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
MAX_RUN_SECONDS = 20
DEFAULT_APP = "netbank.config.wsgi_api:application"


# --- Results -------------------------------------------------------------------------


@dataclass
class RunResult:
    db: str
    concurrency: int
    client: str
    duration_s: float
    requests: int
    rate: float  # completed requests per second
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    accepted: int
    rejected: int
    locked: int
    other: int  # HTTP status other than 200, or transport errors
    wrapped: int = 0  # requests that had to repeat a used token (pool too small)
    sent: int = 0  # requests sent, answered or not
    loadavg_before: float = 0.0
    # CPU milliseconds per answered verification: server processes, database backends,
    # load generator; and what that CPU would allow on this machine's cores alone.
    cpu_ms: dict[str, float] = field(default_factory=dict)
    cpu_bound_rate: float = 0.0
    notes: dict[str, object] = field(default_factory=dict)

    def account(self, spent: dict[str, float]) -> None:
        if not self.requests:
            return
        self.cpu_ms = {k: round(v * 1000 / self.requests, 3) for k, v in spent.items()}
        total = sum(self.cpu_ms.values())
        if total:
            self.cpu_bound_rate = round((os.cpu_count() or 1) * 1000 / total, 1)

    @property
    def all_accepted(self) -> bool:
        return self.requests > 0 and self.accepted == self.requests


# --- Databases -----------------------------------------------------------------------


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"nb_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    path = folder / "bench.sqlite3"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def source_label(source: Path, commit: str) -> str:
    """What was measured, for the results file, without this machine's paths: the commit,
    or the working tree's commit (marked if src/ had changes), or another tree's name."""
    if commit:
        return commit
    if source == ROOT / "src":
        git = ["git", "-C", str(ROOT)]
        head = subprocess.run(
            [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--", "src"], check=True, capture_output=True, text=True
        ).stdout.strip()
        return f"{head} (working tree, src/ changed)" if changed else head
    return f"another tree: {source.parent.name}/{source.name}"


def export_source(rev: str, folder: Path) -> tuple[Path, str]:
    """``src/`` of commit ``rev`` (git archive), so the numbers belong to one commit
    and not to whatever is half-edited in the working tree."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    target = folder / f"src-{commit[:12]}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "src"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src", commit


def signing_key_file(folder: Path) -> Path:
    """A fresh bank signing key, as `netbank create-signing-key` writes it (0600)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bank_signing_key.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return path


def server_environment(
    database_url: str, folder: Path, extra: dict[str, str], source: Path
) -> dict[str, str]:
    """The server's environment: production settings, fresh secrets, loopback only."""
    # Nothing of the caller's configuration leaks in: only --server-env adds to this.
    own = ("NETBANK_", "DJANGO_", "DB_", "SECURE_", "SMTP_", "DEBUG", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "netbank.config.settings",
            "NETBANK_ENV": "production",
            # TLS ends at the load balancer in front of the app nodes; loopback is plain HTTP.
            "SECURE_SSL_REDIRECT": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "NETBANK_OTP_KEYS": "bench1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "NETBANK_DATA_DIR": str(folder / "data"),
            "NETBANK_SIGNING_KEY_FILE": str(signing_key_file(folder / "data")),
            # What the start-up checks require of production (every one is checked).
            "NETBANK_AUDIT_MAC_KEY": secrets.token_urlsafe(40),
            "SMTP_STARTTLS": "true",
            "NETBANK_PUBLIC_URL": "https://bank.example",
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "ERROR",
            # Each server thread keeps its connection for the whole benchmark, so the
            # CPU of every database backend can be read from /proc (CpuMeter).
            "DB_CONN_MAX_AGE": "3600",
            # The channel's rate limit is a bank setting; the benchmark channel's is set
            # above the load it generates (the limit is still counted on every request).
            "NETBANK_THROTTLE_VERIFY_PER_CHANNEL_PER_MINUTE": "100000000",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(source), str(ROOT), env.get("PYTHONPATH", "")) if p
            ),
        }
    )
    env.update(extra)
    return env


# --- Fixtures and tokens -------------------------------------------------------------


@dataclass
class BenchToken:
    user_id: str
    seed: bytes
    used_step: int = -1


@dataclass
class Fixtures:
    channel_key: str
    period: int
    digits: int
    algorithm: str
    tokens: list[BenchToken]


def make_fixtures(env: dict[str, str], folder: Path, customers: int) -> Fixtures:
    out = folder / "fixtures.json"
    subprocess.run(
        [
            PYTHON,
            "-m",
            "bench.verify_fixtures",
            "setup",
            "--customers",
            str(customers),
            "--out",
            out,
        ],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=900,
    )
    data = json.loads(out.read_text())
    out.unlink()
    return Fixtures(
        channel_key=data["channel_key"],
        period=int(data["period"]),
        digits=int(data["digits"]),
        algorithm=str(data["algorithm"]),
        tokens=[BenchToken(t["user_id"], bytes.fromhex(t["seed"])) for t in data["tokens"]],
    )


def calibrate(env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [PYTHON, "-m", "bench.verify_fixtures", "calibrate"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def audit_counts(env: dict[str, str]) -> dict[str, int]:
    out = subprocess.run(
        [PYTHON, "-m", "bench.verify_fixtures", "audit"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    counts: dict[str, int] = json.loads(out)
    return counts


class TokenPool:
    """Hands out tokens that have not been used in the current time step.

    A token accepts each time step once (the replay guard), so a token used during a
    run is marked with the step current at the run's end, and only offered again in a
    later step. When too few tokens are left for a run, the pool waits for the next
    step, when all of them are fresh again.
    """

    def __init__(self, fixtures: Fixtures) -> None:
        self.fx = fixtures
        self.period = fixtures.period

    def step(self) -> int:
        return int(time.time()) // self.period

    def take(self, needed: int) -> tuple[int, list[BenchToken]]:
        step = self.step()
        fresh = [t for t in self.fx.tokens if t.used_step < step]
        if len(fresh) < needed:
            wait = (step + 1) * self.period - time.time() + 0.2
            print(f"  (waiting {wait:.1f} s for the next time step: tokens are spent)")
            time.sleep(max(0.0, wait))
            step = self.step()
            fresh = [t for t in self.fx.tokens if t.used_step < step]
        return step, fresh

    def codes(self, token: BenchToken, step: int) -> list[str]:
        return [
            totp(
                token.seed,
                (step + k) * self.period,
                period=self.period,
                digits=self.fx.digits,
                algorithm=self.fx.algorithm,
            )
            for k in range(3)
        ]

    def mark_used(self, tokens: list[BenchToken]) -> None:
        step = self.step()
        for token in tokens:
            token.used_step = step


# --- Server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _niced(nice: int) -> Callable[[], None] | None:
    """A preexec function that sets the child's scheduling priority (``--nice``)."""
    if not nice:
        return None

    def set_priority() -> None:
        os.setpriority(os.PRIO_PROCESS, 0, nice)

    return set_priority


@dataclass
class Server:
    port: int
    pids: list[int]


@contextlib.contextmanager
def running_server(
    env: dict[str, str],
    *,
    workers: int,
    threads: int,
    app: str,
    profile_dir: Path | None = None,
    nice: int = 0,
    server: str = "waitress",
    granian_options: tuple[str, ...] = (),
) -> Iterator[Server]:
    if server == "granian":
        if profile_dir is not None:
            raise SystemExit("--profile-dir profiles waitress workers: add --server waitress")
        with running_granian(
            env, workers=workers, threads=threads, app=app, nice=nice, options=granian_options
        ) as found:
            yield found
        return
    port = free_port()
    procs: list[subprocess.Popen[str]] = []
    try:
        for n in range(workers):
            cmd = [
                PYTHON,
                "-m",
                "bench.verify_server",
                "--port",
                str(port),
                "--threads",
                str(threads),
                "--app",
                app,
            ]
            if profile_dir is not None:
                cmd += ["--profile", str(profile_dir / f"worker{n}.prof")]
            procs.append(
                subprocess.Popen(
                    cmd,
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    text=True,
                    preexec_fn=_niced(nice),  # set before exec; no threads run yet
                )
            )
        deadline = time.monotonic() + 120
        for proc in procs:
            line = _readline(proc, deadline)
            if not line.startswith("ready"):
                raise RuntimeError(f"server worker did not start (exit {proc.poll()}): {line!r}")
        yield Server(port, [proc.pid for proc in procs])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


@contextlib.contextmanager
def running_granian(
    env: dict[str, str],
    *,
    workers: int,
    threads: int,
    app: str,
    nice: int = 0,
    options: tuple[str, ...] = (),
) -> Iterator[Server]:
    """granian (HTTP/1 and the WSGI calls in Rust) with ``workers`` processes of
    ``threads`` blocking threads each; its workers are the processes measured."""
    port = free_port()
    cmd = [
        PYTHON,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--http",
        "1",
        "--no-ws",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        # One Rust thread per worker for the HTTP side: the Python threads do the work
        # (docs/operations.md).
        "--runtime-mode",
        "st",
        "--log-level",
        "warning",
        "--no-access-log",
        *options,
        app,
    ]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, preexec_fn=_niced(nice), text=True
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"granian did not start (exit {proc.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError("granian did not answer within 120 s")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/verify")
                conn.getresponse().read()
                conn.close()
                pids = _children(proc.pid)
                if len(pids) >= workers:
                    break
            time.sleep(0.2)
        yield Server(port, [proc.pid, *pids])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _readline(proc: subprocess.Popen[str], deadline: float) -> str:
    result: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(max(0.0, deadline - time.monotonic()))
    return result[0].strip() if result else ""


# --- CPU accounting ------------------------------------------------------------------


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by the server's processes, the database's backends and the
    load generator, so a run can say what one verification costs in CPU whatever else
    the machine is doing (its throughput cannot: the cores are shared)."""

    def __init__(
        self, server_pids: list[int], pg_admin_url: str, database_url: str, nice: int = 0
    ) -> None:
        self.server_pids = server_pids
        self.pg_admin_url = pg_admin_url
        self.db_name = database_url.rsplit("/", 1)[1] if database_url.startswith("postgres") else ""
        self.nice = nice

    def _backends(self) -> dict[int, float]:
        if not self.db_name:
            return {}
        import psycopg

        with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.db_name]
            ).fetchall()
        if self.nice:
            # The benchmark database's own backends get the benchmark's priority.
            for (pid,) in rows:
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, pid, self.nice)
        return {pid: _process_cpu(pid) for (pid,) in rows}

    def sample(self) -> tuple[float, dict[int, float], float]:
        server = sum(_process_cpu(pid) for pid in self.server_pids)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return server, self._backends(), children.ru_utime + children.ru_stime

    @staticmethod
    def spent(
        before: tuple[float, dict[int, float], float], after: tuple[float, dict[int, float], float]
    ) -> dict[str, float]:
        # A backend that appeared during the run counts from its start; one that ended
        # during the run is lost (connections live longer than a run, so this is rare).
        db = sum(cpu - before[1].get(pid, 0.0) for pid, cpu in after[1].items())
        return {"server": after[0] - before[0], "db": db, "client": after[2] - before[2]}


# --- Load generators -----------------------------------------------------------------


def run_wrk(
    pool: TokenPool,
    port: int,
    meter: CpuMeter,
    *,
    db: str,
    concurrency: int,
    duration: float,
    expect_rate: float,
    folder: Path,
    wrk_threads: int = 1,
    nice: int = 0,
) -> RunResult:
    # Enough fresh tokens for 1.5 times the expected load; at most half the pool, so
    # two runs fit in one time step before the pool has to wait for the next.
    needed = min(len(pool.fx.tokens) // 2, max(200, int(expect_rate * duration * 1.5)))
    step, fresh = pool.take(needed)
    data = folder / "tokens.txt"
    fd = os.open(data, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{pool.period} {step} {pool.fx.channel_key}\n")
        for token in fresh:
            fh.write(f"{token.user_id} {' '.join(pool.codes(token, step))}\n")
    threads = max(1, min(wrk_threads, concurrency))
    load = os.getloadavg()[0]
    before = meter.sample()
    proc = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(concurrency),
            "-d",
            f"{duration:g}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA_SCRIPT),
            f"http://127.0.0.1:{port}{PATH}",
            "--",
            str(data),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
        preexec_fn=_niced(nice),
    )
    spent = meter.spent(before, meter.sample())
    data.unlink()
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    # Thread t used lines t, t + n, t + 2n, ... of the file, in that order.
    used: list[BenchToken] = []
    for t, count in enumerate(summary["sent_per_thread"]):
        used.extend(fresh[t::threads][:count])
    pool.mark_used(used)
    errors = sum(summary["errors"].values())
    seconds = summary["duration_us"] / 1e6
    result = RunResult(
        db=db,
        concurrency=concurrency,
        client="wrk",
        duration_s=round(seconds, 2),
        requests=summary["requests"],
        rate=round(summary["requests"] / seconds, 1),
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        max_ms=summary["max_us"] / 1000,
        accepted=summary["accepted"],
        rejected=summary["rejected"],
        locked=summary["locked"],
        other=summary["other"] + summary["errors"]["connect"] + summary["errors"]["timeout"],
        wrapped=summary["wrapped"],
        sent=summary["sent"],
        loadavg_before=round(load, 2),
        notes={"wrk_errors": summary["errors"]} if errors else {},
    )
    result.account(spent)
    return result


def run_python(
    pool: TokenPool,
    port: int,
    meter: CpuMeter,
    *,
    db: str,
    concurrency: int,
    requests: int,
) -> RunResult:
    """A threaded keep-alive HTTP client in this process: no wrk needed (smoke test)."""
    step, fresh = pool.take(requests)
    todo = iter(fresh[:requests])
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"accepted": 0, "rejected": 0, "locked": 0, "other": 0}
    used: list[BenchToken] = []
    headers = {
        "Authorization": f"Bearer {pool.fx.channel_key}",
        "Content-Type": "application/json",
    }

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while True:
                with lock:
                    token = next(todo, None)
                    if token is None:
                        return
                    used.append(token)
                k = min(2, max(0, pool.step() - step))
                body = json.dumps({"user_id": token.user_id, "otp": pool.codes(token, step)[k]})
                start = time.perf_counter()
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - start
                if response.status == 200:
                    result = json.loads(payload)["result"]
                    key = result if result in counts else "other"
                else:
                    key = "other"
                with lock:
                    latencies.append(elapsed)
                    counts[key] += 1
        finally:
            conn.close()

    load = os.getloadavg()[0]
    before = meter.sample()
    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(concurrency)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    seconds = time.perf_counter() - started
    spent = meter.spent(before, meter.sample())
    pool.mark_used(used)
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000, 2)

    result = RunResult(
        db=db,
        concurrency=concurrency,
        client="python",
        duration_s=round(seconds, 2),
        requests=len(latencies),
        rate=round(len(latencies) / seconds, 1) if seconds else 0.0,
        p50_ms=round(statistics.median(latencies) * 1000, 2) if latencies else 0.0,
        p90_ms=pct(90),
        p99_ms=pct(99),
        max_ms=round(latencies[-1] * 1000, 2) if latencies else 0.0,
        sent=len(used),
        loadavg_before=round(load, 2),
        accepted=counts["accepted"],
        rejected=counts["rejected"],
        locked=counts["locked"],
        other=counts["other"],
    )
    # This client runs in the benchmark's own process: its CPU is not a child's.
    result.account({k: v for k, v in spent.items() if k != "client"})
    return result


# --- The whole benchmark -------------------------------------------------------------


@dataclass
class Options:
    dbs: list[str]
    concurrency: list[int]
    duration: float
    workers: int
    threads: int
    customers: int
    app: str
    client: str
    requests: int  # python client: requests per run
    warmup: float
    pg_admin_url: str
    server_env: dict[str, str]
    profile_dir: Path | None = None
    wrk_threads: int = 1
    json_path: Path | None = None
    nice: int = 0
    calibrate: bool = True
    source: Path = ROOT / "src"
    commit: str = ""  # the commit measured, or "" for the working tree
    server: str = "granian"
    granian_options: tuple[str, ...] = ()


def bench_database(db: str, opts: Options, folder: Path) -> list[RunResult]:
    database = postgres_database(opts.pg_admin_url) if db == "postgres" else sqlite_database(folder)
    results: list[RunResult] = []
    with database as url:
        env = server_environment(url, folder, opts.server_env, opts.source)
        started = time.monotonic()
        fixtures = make_fixtures(env, folder, opts.customers)
        print(
            f"[{db}] {len(fixtures.tokens)} customers set up in {time.monotonic() - started:.1f} s"
        )
        pool = TokenPool(fixtures)
        machine = calibrate(env) if opts.calibrate else {}
        if machine:
            print(
                f"[{db}] machine now: ORM read of a token {machine['orm_read_us']:.0f} µs CPU, "
                f"same read in SQL {machine['sql_read_us']:.0f} µs, "
                f"100k-step Python loop {machine['python_loop_us']:.0f} µs"
            )
        with running_server(
            env,
            workers=opts.workers,
            threads=opts.threads,
            app=opts.app,
            profile_dir=opts.profile_dir,
            nice=opts.nice,
            server=opts.server,
            granian_options=opts.granian_options,
        ) as server:
            port = server.port
            meter = CpuMeter(server.pids, opts.pg_admin_url, url, nice=opts.nice)
            print(
                f"[{db}] server: {opts.workers} {opts.server} processes x {opts.threads} threads "
                f"on 127.0.0.1:{port}, {opts.app}"
            )
            expect = 3000.0
            warm: list[RunResult] = []
            if opts.client == "wrk" and opts.warmup > 0:
                warm.append(
                    run_wrk(
                        pool,
                        port,
                        meter,
                        db=db,
                        concurrency=max(opts.concurrency),
                        duration=opts.warmup,
                        expect_rate=expect,
                        folder=folder,
                        nice=opts.nice,
                    )
                )
                print(f"[{db}] warm-up: {warm[0].rate:.0f}/s, {warm[0].accepted} accepted")
                expect = max(200.0, warm[0].rate * 1.5)
            for conc in opts.concurrency:
                if opts.client == "wrk":
                    result = run_wrk(
                        pool,
                        port,
                        meter,
                        db=db,
                        concurrency=conc,
                        duration=opts.duration,
                        expect_rate=expect,
                        folder=folder,
                        wrk_threads=opts.wrk_threads,
                        nice=opts.nice,
                    )
                    expect = max(200.0, expect, result.rate * 1.5)
                else:
                    result = run_python(
                        pool, port, meter, db=db, concurrency=conc, requests=opts.requests
                    )
                print(format_row(result), flush=True)
                results.append(result)
        check_audit(db, audit_counts(env), results + warm)
        for result in results:
            result.notes["calibration"] = machine
    return results


def check_audit(db: str, counts: dict[str, int], runs: list[RunResult]) -> None:
    """One ``otp.accepted`` record per accepted answer, and nothing refused.

    A load generator stops at its deadline with some requests in flight: the server
    still verifies (and audits) them, but their answers are not counted. So the trail
    holds at least the accepted answers and at most the requests sent.
    """
    accepted = sum(r.accepted for r in runs)
    sent = sum(r.sent for r in runs)
    audited = counts.get("otp.accepted", 0)
    refused = sum(n for event, n in counts.items() if event.startswith(("otp.", "channel.")))
    refused -= audited
    print(
        f"[{db}] audit trail: {audited} otp.accepted records for {accepted} accepted answers "
        f"({sent} requests sent); {refused} other otp./channel. records"
    )
    if not accepted <= audited <= sent or refused:
        raise SystemExit(f"[{db}] the audit trail does not match the answers: {counts}")


HEADER = (
    f"{'db':<9}{'conc':>5}{'verif/s':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
    f"{'accepted':>10}{'refused':>9}{'other':>7}{'load':>6}"
    f"{'cpu ms srv+db+cli':>19}{'cpu-bound/s':>12}"
)


def format_row(r: RunResult) -> str:
    cpu = "+".join(f"{r.cpu_ms.get(k, 0):.2f}" for k in ("server", "db", "client"))
    return (
        f"{r.db:<9}{r.concurrency:>5}{r.rate:>10.0f}{r.p50_ms:>9.1f}{r.p90_ms:>9.1f}"
        f"{r.p99_ms:>9.1f}{r.accepted:>10}{r.rejected + r.locked:>9}{r.other:>7}"
        f"{r.loadavg_before:>6.1f}{cpu:>19}{r.cpu_bound_rate:>12.0f}"
    )


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description="OTP verification API benchmark", formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated connections")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (<= 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up load")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per server process")
    parser.add_argument("--customers", type=int, default=40000, help="customers with tokens")
    parser.add_argument("--app", default=DEFAULT_APP, help="WSGI application (module:attr)")
    parser.add_argument(
        "--server",
        choices=("granian", "waitress"),
        default="granian",
        help="HTTP server: granian (the API nodes' server), or waitress processes on one "
        "SO_REUSEPORT port",
    )
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--requests", type=int, default=200, help="python client: per run")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server (e.g. NETBANK_DB_POOL=1)",
    )
    parser.add_argument(
        "--granian-option",
        action="append",
        default=[],
        metavar="OPTION",
        help="extra granian command-line option, after the benchmark's own (repeat; e.g.\n"
        "--granian-option=--runtime-mode=auto for granian's default runtime)",
    )
    parser.add_argument("--profile-dir", type=Path, help="cProfile each server worker here")
    parser.add_argument(
        "--no-calibrate",
        dest="calibrate",
        action="store_false",
        help="skip measuring the machine's current speed",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="measure src/ of this commit (git archive) instead of the working tree",
    )
    parser.add_argument("--source", type=Path, help="measure this src/ folder instead")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority of the server, its database backends and wrk\n"
        "(negative needs root: on a shared machine, less of the cores go elsewhere)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_RUN_SECONDS:
        parser.error(f"--duration must be more than 0 and at most {MAX_RUN_SECONDS} s")
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    if not dbs or set(dbs) - {"sqlite", "postgres"}:
        parser.error("--db takes sqlite, postgres or both")
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    extra = {}
    for item in args.server_env:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--server-env takes NAME=VALUE, not {item!r}")
        extra[name] = value
    opts = Options(
        dbs=dbs,
        concurrency=[int(c) for c in args.concurrency.split(",")],
        duration=args.duration,
        workers=args.workers,
        threads=args.threads,
        customers=args.customers,
        app=args.app,
        client=client,
        requests=args.requests,
        warmup=min(args.warmup, MAX_RUN_SECONDS),
        pg_admin_url=args.pg_admin_url,
        server_env=extra,
        profile_dir=args.profile_dir,
        wrk_threads=args.wrk_threads,
        json_path=args.json,
        commit=args.commit or "",
        nice=args.nice,
        calibrate=args.calibrate,
        granian_options=tuple(args.granian_option),
        server=args.server,
    )
    if args.source:
        opts.source = args.source.resolve()
    return opts


def run(opts: Options) -> list[RunResult]:
    results: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="nb-bench-") as tmp:
        folder = Path(tmp)
        if opts.commit:
            opts.source, opts.commit = export_source(opts.commit, folder)
            print(f"measuring src/ of commit {opts.commit}")
        for db in opts.dbs:
            results.extend(bench_database(db, opts, folder))
    return results


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    print(
        f"OTP verification benchmark: {os.cpu_count()} CPUs, client {opts.client}, "
        f"{opts.duration:g} s per run, load average {os.getloadavg()[0]:.2f}"
    )
    results = run(opts)
    print()
    print(HEADER)
    for r in results:
        print(format_row(r))
    if opts.json_path is not None:
        opts.json_path.write_text(
            json.dumps(
                {
                    "cpus": os.cpu_count(),
                    "server": opts.server,
                    "workers": opts.workers,
                    "threads": opts.threads,
                    "app": opts.app,
                    "commit": source_label(opts.source, opts.commit),
                    "nice": opts.nice,
                    "server_env": opts.server_env,
                    "granian_options": list(opts.granian_options),
                    "results": [asdict(r) for r in results],
                },
                indent=2,
            )
            + "\n"
        )
    bad = [r for r in results if not r.all_accepted]
    if bad:
        print(f"\n{len(bad)} run(s) had requests that were not accepted: see the table.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

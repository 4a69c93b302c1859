"""Where a verification's time goes: CPU per request, SQL statements, and a profile.

    .venv/bin/python -m bench.profile_verify --db postgres --commit HEAD
    .venv/bin/python -m bench.profile_verify --app netbank.config.wsgi:application

Makes a fresh database exactly as bench/otp_verify.py does, then, in one process with
the server's environment, calls the WSGI application directly (no HTTP server, no
network) with ``--requests`` correct fresh codes, one after another, and reports:

- the CPU time of this process per verification (``time.process_time``), which the
  machine's other load does not inflate much, unlike wall-clock throughput;
- the CPU time of the PostgreSQL backend serving this process (read from /proc), so
  the database's share is visible too;
- the SQL statements of one verification, in order;
- the functions with the most cumulative time (cProfile, a second pass).

Every answer must be ``accepted``; the script stops otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import otp_verify as bench

WORKER = "bench.profile_verify"


def _backend_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def worker(fixtures_path: Path, requests: int, app_target: str, top: int) -> dict[str, object]:
    """Runs inside the Django process (the server's environment)."""
    import django

    django.setup()
    from django.db import connection

    from bench.verify_server import _load
    from netbank.oath.totp import totp

    data = json.loads(fixtures_path.read_text())
    app = _load(app_target)
    key = data["channel_key"]
    period, digits = int(data["period"]), int(data["digits"])
    tokens = iter(data["tokens"])

    def one() -> str:
        token = next(tokens)
        code = totp(bytes.fromhex(token["seed"]), time.time(), period=period, digits=digits)
        body = json.dumps({"user_id": token["user_id"], "otp": code}).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": bench.PATH,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Bearer {key}",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status: list[str] = []
        payload = b"".join(app(environ, lambda s, h, *a: status.append(s)))
        result = json.loads(payload).get("result") if status[0].startswith("200") else None
        if result != "accepted":
            raise SystemExit(f"verification answered {status[0]} {payload[:200]!r}")
        return str(result)

    # Warm up: imports, URL resolution, the connection and (if enabled) prepared statements.
    for _ in range(50):
        one()
    statements: list[str] = []

    def capture(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        one()
    backend_pid = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]

    db_before = _backend_cpu_seconds(backend_pid) if backend_pid else 0.0
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    for _ in range(requests):
        one()
    cpu = time.process_time() - cpu_before
    wall = time.perf_counter() - wall_before
    db_cpu = (_backend_cpu_seconds(backend_pid) - db_before) if backend_pid else 0.0

    # CPU time, not wall time: waits for the database are not the application's cost.
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for _ in range(min(requests, 1000)):
        one()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    passes = min(requests, 1000)
    calls = stats.total_calls / passes  # type: ignore[attr-defined]
    # Cumulative CPU per verification of the bank's own functions: the breakdown.
    own = []
    for (filename, _line, name), entry in stats.stats.items():  # type: ignore[attr-defined]
        if "/netbank/" in filename and "/bench/" not in filename:
            module = filename.split("/netbank/", 1)[1].removesuffix(".py").replace("/", ".")
            own.append((entry[3] / passes * 1e6, entry[1] / passes, f"{module}.{name}"))
    own.sort(reverse=True)
    stats.sort_stats("cumulative").print_stats(top)
    tottime = io.StringIO()
    pstats.Stats(profile, stream=tottime).sort_stats("tottime").print_stats(top)
    return {
        "vendor": connection.vendor,
        "requests": requests,
        "app_cpu_us": round(cpu / requests * 1e6, 1),
        "wall_us": round(wall / requests * 1e6, 1),
        "db_backend_cpu_us": round(db_cpu / requests * 1e6, 1),
        "statements": statements,
        "python_calls": round(calls),
        "breakdown": [
            {"function": f, "cpu_us": round(us, 1), "calls": round(n, 2)} for us, n, f in own
        ],
        "profile_cumulative": out.getvalue(),
        "profile_tottime": tottime.getvalue(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--app", default=bench.DEFAULT_APP)
    parser.add_argument("--commit", metavar="REV")
    parser.add_argument("--source", type=Path, help="profile this src/ folder")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--pg-admin-url", default=bench.PG_ADMIN_URL)
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        report = worker(Path(args.worker[0]), args.requests, args.app, args.top)
        Path(args.worker[1]).write_text(json.dumps(report))
        return 0

    # One connection for the whole run, so /proc shows its backend's CPU throughout.
    extra = {"DB_CONN_MAX_AGE": "86400"}
    extra.update(item.split("=", 1) for item in args.server_env)
    with tempfile.TemporaryDirectory(prefix="nb-profile-") as tmp:
        folder = Path(tmp)
        source, commit = bench.ROOT / "src", "working tree"
        if args.source:
            source, commit = args.source.resolve(), str(args.source)
        if args.commit:
            source, commit = bench.export_source(args.commit, folder)
        database = (
            bench.postgres_database(args.pg_admin_url)
            if args.db == "postgres"
            else bench.sqlite_database(folder)
        )
        with database as url:
            env = bench.server_environment(url, folder, extra, source)
            fixtures = folder / "fixtures.json"
            # Enough tokens for every pass, each used once.
            customers = 2 * args.requests + 100
            subprocess.run(
                [bench.PYTHON, "-m", "bench.verify_fixtures", "setup", "--customers", str(customers),
                 "--out", fixtures],
                env=env, cwd=bench.ROOT, check=True, timeout=900,
            )  # fmt: skip
            out = folder / "report.json"
            with contextlib.suppress(subprocess.CalledProcessError):
                subprocess.run(
                    [bench.PYTHON, "-m", WORKER, "--requests", str(args.requests),
                     "--app", args.app, "--top", str(args.top),
                     "--worker", str(fixtures), str(out)],
                    env=env, cwd=bench.ROOT, check=True, timeout=900,
                )  # fmt: skip
            if not out.exists():
                print("the profile run failed (see above)")
                return 1
            report = json.loads(out.read_text())
    report["commit"] = commit
    report["app"] = args.app
    report["server_env"] = extra
    print(f"commit {commit}, {args.app}, {report['vendor']}, {report['requests']} verifications")
    print(
        f"per verification: {report['app_cpu_us']} µs CPU in the app process, "
        f"{report['db_backend_cpu_us']} µs CPU in the database backend, "
        f"{report['wall_us']} µs wall (one client, no HTTP server)"
    )
    print(f"{report['python_calls']} Python function calls per verification (cProfile)")
    print(f"{len(report['statements'])} SQL statements:")
    for sql in report["statements"]:
        print("   ", sql if len(sql) < 160 else sql[:157] + "...")
    print("CPU per verification inside the bank's functions (cProfile, cumulative):")
    for row in report["breakdown"][:40]:
        print(f"    {row['cpu_us']:>9.1f} µs  {row['calls']:>5} x  {row['function']}")
    print(report["profile_cumulative"])
    print(report["profile_tottime"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: build synthetic data at each size, run every benchmark and its no-framework baseline
on SQLite and on PostgreSQL, and print the figures, the ratios and the goals.

Environment:
  BENCH_SIZES                   patrons per database, default "1000 10000 100000" (CI: 200)
  OUTREACH_BENCH_DATABASE_URL   a PostgreSQL URL whose database the bench may drop and re-create;
                                unset: PostgreSQL is skipped with a message
  BENCH_DATABASES               "sqlite postgresql" (default: both, where configured)
  BENCH_DURATION                seconds per load test (default 10; 3 below 1,000 patrons)
  BENCH_TODAY                   the day the data is built around (default: the library's today)
  BENCH_WORK                    where databases and results go (default bench/.work)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import date
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("BENCH_WORK", ROOT / "bench" / ".work"))
BIN = Path(sys.executable).parent

# (key, label, goal ratio app/baseline or None, goal text)
TABLE = (
    ("run", "monthly run, plan + commit", 5.0, "≤ 5× raw insert; < 1 GB"),
    ("documents", "labels + return labels + slips", 1.5, "≤ 1.5× bare canvas"),
    ("search", "patron search (req/s, 16 clients)", None, "≥ ½ bare req/s; p99 < 50 ms"),
    ("report", "annual report", 2.0, "≤ 2× hand-written SQL"),
    ("preview", "preview of a monthly run", None, "< 30 s; < 1 GB"),
)


def log(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------------ databases

def prepare_sqlite(size: int) -> str:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"bench-{size}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def prepare_postgresql(url: str) -> str:
    """Drop and re-create the bench database named in the URL (never the test database)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.database in (None, "", "postgres", "outreach", "outreach_test"):
        raise SystemExit(f"OUTREACH_BENCH_DATABASE_URL must name a database of its own (not {u.database!r}): "
                         "the bench drops and re-creates it")
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')
    return url


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(BIN / "outreach"), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL,
                   cwd=ROOT)


# ---------------------------------------------------------------------------------------- steps

def measure(step: str, url: str, today: date, **options: Any) -> dict[str, Any]:
    """Run one step in its own process; its figures plus its peak memory (max RSS, MB) from wait4."""
    args = [sys.executable, "-m", "bench.steps", step, "--url", url, "--today", today.isoformat()]
    for key, value in options.items():
        args += [f"--{key}", str(value)]
    WORK.mkdir(parents=True, exist_ok=True)
    err_path = WORK / f"{step}.stderr"
    with open(err_path, "w") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, cwd=ROOT, text=True)
        out = proc.stdout.read() if proc.stdout else ""
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = err_path.read_text()[-3000:]
        raise RuntimeError(f"step {step} failed ({proc.returncode}):\n{tail}")
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH-RESULT "))
    result = json.loads(line[len("BENCH-RESULT "):])
    result["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


# --------------------------------------------------------------------------------------- search

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_gunicorn(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                             target], env={**os.environ, **env}, cwd=ROOT, stderr=open(WORK / "gunicorn.stderr", "a"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/patrons?q=x", timeout=2)  # noqa: S310 - loopback only
            break
        except urllib.error.HTTPError:
            break  # it answers (401/302 are fine)
        except OSError:
            time.sleep(0.2)
    return proc, base


def _stop(proc: subprocess.Popen[bytes]) -> float:
    """Stop our gunicorn; return the largest peak RSS (VmHWM, MB) of its workers."""
    peak = 0.0
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        for child in children:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
    except OSError:
        pass
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return peak


def _login(base: str, username: str, password: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert token, "no CSRF token on the login page"
    data = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token.group(1)}).encode()
    opener.open(base + "/login", data=data, timeout=10).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    check = urllib.request.Request(base + "/patrons?q=" + urllib.parse.quote("ヤマダ"), headers={"Cookie": cookie})
    with urllib.request.urlopen(check, timeout=10) as response:  # noqa: S310 - loopback only
        body = response.read().decode()
        assert response.status == 200 and "/login" not in response.url, "login for the search benchmark failed"
        assert "山田" in body, "the search page found nobody: is the data there?"
    return cookie


def _wrk(base: str, duration: int, cookie: str | None) -> dict[str, Any]:
    args = ["wrk", "-t2", "-c16", f"-d{duration}s", "--latency", "-s", str(ROOT / "bench" / "search.lua"), base]
    if cookie:
        args[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * factor[p99.group(2)] if p99 else None,
            "errors": int(errors.group(1)) if errors else 0, "requests": int(total.group(1)) if total else 0}


def search_bench(url: str, today: date, size: int) -> dict[str, Any] | None:
    if shutil.which("wrk") is None:
        log("  search: skipped — wrk is not installed (apt-get install wrk)")
        return None
    from bench.steps import BENCH_PASSWORD, BENCH_USER

    measure("user", url, today)
    duration = int(os.environ.get("BENCH_DURATION", "10" if size >= 1000 else "3"))
    app_proc, base = _start_gunicorn("wsgi:app", {"DATABASE_URL": url, "SECRET_KEY": "bench-only-secret-key"})
    try:
        cookie = _login(base, BENCH_USER, BENCH_PASSWORD)
        _wrk(base, 1, cookie)  # warm-up
        app = _wrk(base, duration, cookie)
    finally:
        peak = _stop(app_proc)
    app["peak_mb"] = peak
    bare_proc, base = _start_gunicorn("bench.bare_app:app", {"BENCH_DATABASE_URL": url})
    try:
        _wrk(base, 1, None)
        bare = _wrk(base, duration, None)
    finally:
        peak = _stop(bare_proc)
    bare["peak_mb"] = peak
    return {"app": app, "bare": bare}


# -------------------------------------------------------------------------------------- reports

def _fmt_s(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def report_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for key, label, goal_ratio, goal in TABLE:
        if key == "search":
            s = r.get("search")
            if not s:
                rows.append((label, "skipped", "", "", goal, ""))
                continue
            a, b = s["app"], s["bare"]
            ratio = a["rps"] / b["rps"] if b["rps"] else 0
            rows.append((label, f"{a['rps']:.0f} req/s, p99 {a['p99_ms']:.0f} ms",
                         f"{b['rps']:.0f} req/s, p99 {b['p99_ms']:.0f} ms", f"{ratio:.2f}×", goal,
                         f"{a['peak_mb']:.0f} / {b['peak_mb']:.0f}"))
            continue
        a = r[key]
        if key == "preview":
            rows.append((label, _fmt_s(a["seconds"]), "–", "–", goal, f"{a['peak_mb']:.0f}"))
            continue
        b = r[f"{key}_baseline"]
        ratio = a["seconds"] / b["seconds"] if b["seconds"] else float("inf")
        mark = "" if goal_ratio is None or ratio <= goal_ratio else " (missed)"
        rows.append((label, _fmt_s(a["seconds"]), _fmt_s(b["seconds"]), f"{ratio:.1f}×{mark}", goal,
                     f"{a['peak_mb']:.0f} / {b['peak_mb']:.0f}"))
    return rows


def print_table(title: str, r: dict[str, Any]) -> None:
    log(f"\n== {title} ==")
    run = r["run"]
    log(f"  data: {r['synth']['rows']:,} rows ({r['synth']['loans']:,} loans) built in {_fmt_s(r['synth']['seconds'])}; "
        f"run: {run['shipments']:,} shipments, {run['items']:,} items "
        f"(plan {_fmt_s(run['plan_seconds'])}, commit {_fmt_s(run['commit_seconds'])})")
    header = ("benchmark", "outreach", "baseline", "ratio", "goal", "peak MB app / base")
    rows = [header, *report_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        log("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))


def markdown(results: dict[str, Any]) -> str:
    """The figures of results.json as Markdown tables (for docs/performance.md): ``python -m bench.run --markdown``."""
    out = []
    for db in ("sqlite", "postgresql"):
        runs = sorted((r for r in results.values() if r["db"] == db), key=lambda r: r["patrons"])
        if not runs:
            continue
        out += [f"### {db}", "", "| patrons | benchmark | outreach | baseline | ratio | goal | peak MB app / base |",
                "|---|---|---|---|---|---|---|"]
        for r in runs:
            for label, app, base, ratio, goal, peak in report_rows(r):
                out.append(f"| {r['patrons']:,} | {label} | {app} | {base} | {ratio} | {goal} | {peak} |")
            run = r["run"]
            out.append(f"| {r['patrons']:,} | (data: {r['synth']['rows']:,} rows, {r['synth']['loans']:,} loans, "
                       f"{_fmt_s(r['synth']['seconds'])}; run: {run['shipments']:,} shipments, {run['items']:,} items) "
                       f"| | | | | {r['synth']['peak_mb']:.0f} |")
        out.append("")
    return "\n".join(out)


def main() -> int:
    if "--markdown" in sys.argv:
        print(markdown(json.loads((WORK / "results.json").read_text())))
        return 0
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "1000 10000 100000").split()]
    wanted = os.environ.get("BENCH_DATABASES", "sqlite postgresql").split()
    pg_url = os.environ.get("OUTREACH_BENCH_DATABASE_URL", "")
    today = date.fromisoformat(os.environ["BENCH_TODAY"]) if os.environ.get("BENCH_TODAY") else None
    if today is None:
        sys.path.insert(0, str(ROOT))
        from outreach.clock import today as library_today

        today = library_today()
    databases = []
    if "sqlite" in wanted:
        databases.append("sqlite")
    if "postgresql" in wanted:
        if pg_url:
            databases.append("postgresql")
        else:
            log("PostgreSQL: skipped — set OUTREACH_BENCH_DATABASE_URL (a database the bench may drop and re-create), "
                "e.g. postgresql+psycopg://outreach:outreach-ci@127.0.0.1:5432/outreach_bench")
    results: dict[str, Any] = {}
    out_path = WORK / "results.json"
    WORK.mkdir(parents=True, exist_ok=True)
    if out_path.exists():
        results = json.loads(out_path.read_text())
    for db in databases:
        for size in sizes:
            title = f"{db}, {size:,} patrons"
            log(f"\n-- {title}: building data ...")
            url = prepare_sqlite(size) if db == "sqlite" else prepare_postgresql(pg_url)
            migrate(url)
            r: dict[str, Any] = {"db": db, "patrons": size, "today": today.isoformat()}
            r["synth"] = measure("synth", url, today, patrons=size, seed=1)
            for step in ("preview", "run", "run_baseline", "documents", "documents_baseline", "report",
                         "report_baseline"):
                log(f"   {step} ...")
                r[step] = measure(step, url, today)
            if r["report"]["figures"] != r["report_baseline"]["figures"]:
                log(f"  NOTE: report figures differ: {r['report']['figures']} vs {r['report_baseline']['figures']}")
            log("   search ...")
            r["search"] = search_bench(url, today, size)
            results[f"{db}-{size}"] = r
            out_path.write_text(json.dumps(results, indent=1, default=str))
            print_table(title, r)
            if db == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{url[len('sqlite:///'):]}{suffix}").unlink(missing_ok=True)
    log(f"\nAll figures: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

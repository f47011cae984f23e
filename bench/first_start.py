"""First and second `make run`: seconds from the command to the first answered page.

    python3 bench/first_start.py [--dir CHECKOUT ...] [--port 8765] [--runs 2] [--fresh]

Runs `make run` in CHECKOUT (default: this one) in a process group of its own, polls
``/healthz`` and the sign-in page until both answer 200, prints the seconds, the CPU seconds its
processes had used by then (user + system, ended children included, the daemonised PostgreSQL
not: the figure other load on the machine disturbs least) and when the command's own milestones
appeared in its output, then sends SIGTERM to the group (what a supervisor does; Ctrl-C sends
SIGINT the same way) once the demo data is written, and waits until every process it started and
the embedded PostgreSQL and Redis have stopped.
The first run is a warm-up (page cache, bytecode); the second is "a second `make run`".
``--fresh`` deletes CHECKOUT/var first (database, Redis data, secrets): the first run is then a
first start on an empty database.

With several ``--dir`` (e.g. a checkout of the commit before a change, each with its own .venv
and var/), the runs alternate between them, so both meet the same load, and the ratio of each
checkout's second-and-later runs to the first checkout's is printed.

`make run` stops the embedded services when it ends: never point this at a checkout whose
services others are using. Standard library only (runs with the system Python).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PAGES = ("/healthz", "/accounts/login/")
# Lines of `make run`'s output worth a time stamp (the first line containing each).
MILESTONES = (
    ("PostgreSQL ready", "PostgreSQL up"),
    ("Redis ready", "Redis up"),
    ("database migrated", "migrated"),
    ("database ready", "database ready"),
    ("Demo data ready", "demo data"),
    ("serving on", "honcho starting"),
    ("Booting worker", "gunicorn worker forked"),
    ("is ready: http", "gunicorn ready"),
    ("celery@", "celery up"),
    ("beat: Starting", "beat up"),
)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _services_running(checkout: Path) -> list[str]:
    up = []
    if (checkout / "var" / "pg" / "postmaster.pid").exists():
        up.append("postgres")
    try:
        pid = int((checkout / "var" / "redis" / "redis.pid").read_text().strip())
        os.kill(pid, 0)
        up.append("redis")
    except (OSError, ValueError):
        pass
    return up


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds: utime + stime + those of its waited-for children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]) / ticks)
    return table


def _descendants(root: int) -> dict[int, float]:
    """The live processes under ``root`` (honcho starts each of its own in a new session) and their CPU."""
    table = _processes()
    found = {root: table[root][1]} if root in table else {}
    grew = True
    while grew:
        grew = False
        for pid, (parent, cpu) in table.items():
            if parent in found and pid not in found:
                found[pid] = cpu
                grew = True
    return found


def _alive(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
    return alive


def one_run(checkout: Path, port: int, timeout: float) -> dict:
    env = {**os.environ, "PORT": str(port)}
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "run"], cwd=checkout, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
    )
    seen: dict[str, float] = {}
    log: list[str] = []

    def read() -> None:
        for line in process.stdout:
            log.append(f"{time.monotonic() - started:6.1f} {line}")
            for needle, label in MILESTONES:
                if needle in line and label not in seen:
                    seen[label] = time.monotonic() - started

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    answered: dict[str, float] = {}
    base = f"http://127.0.0.1:{port}"
    while len(answered) < len(PAGES):
        if process.poll() is not None:
            sys.stdout.write("".join(log[-40:]))
            raise SystemExit(f"make run ended with {process.returncode} before answering")
        if time.monotonic() - started > timeout:
            break
        for path in PAGES:
            if path not in answered and _answers(base + path):
                answered[path] = time.monotonic() - started
        time.sleep(0.05)
    tree = _descendants(process.pid)  # the embedded PostgreSQL (daemonised) is not counted
    cpu = sum(tree.values())
    # The demo data is written while (or after) the web starts: let the run finish it before stopping.
    while "demo data" not in seen and process.poll() is None and time.monotonic() - started < timeout:
        time.sleep(0.1)
    tree.update(_descendants(process.pid))
    stop_started = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    while _alive(tree) and time.monotonic() - stop_started < 60:
        time.sleep(0.05)
    while _services_running(checkout) and time.monotonic() - stop_started < 60:
        time.sleep(0.05)
    reader.join(timeout=5)
    return {
        "answered": answered,
        "ready": max(answered.values()) if len(answered) == len(PAGES) else float("nan"),
        "cpu": cpu,
        "milestones": seen,
        "stopped_s": time.monotonic() - stop_started,
        "clean": not _alive(tree) and not _services_running(checkout),
        "returncode": process.returncode,
        "left": _services_running(checkout) + [f"pid {pid}" for pid in _alive(tree)],
        "log": log,
    }


def _report(label: str, result: dict) -> None:
    print(f"\n{label}: {result['ready']:.1f} s until {' and '.join(PAGES)} answered 200 ({result['cpu']:.1f} CPU s)")
    for path, seconds in result["answered"].items():
        print(f"  {path:<24} {seconds:6.1f} s")
    for name, seconds in sorted(result["milestones"].items(), key=lambda item: item[1]):
        print(f"  {name:<24} {seconds:6.1f} s")
    state = "clean" if result["clean"] else f"NOT clean (still up: {result['left'] or 'processes of the group'})"
    print(f"  stopped in {result['stopped_s']:.1f} s, {state}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, action="append", help="a checkout to run `make run` in (repeatable)")
    parser.add_argument("--port", type=int, default=8765, help="the first checkout's; the next get the following ports")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--fresh", action="store_true", help="delete each checkout's var/ first (an empty database)")
    parser.add_argument("--log", action="store_true", help="print each run's output, time-stamped")
    args = parser.parse_args()
    checkouts = [d.resolve() for d in (args.dir or [BASE_DIR])]
    for offset, checkout in enumerate(checkouts):
        if running := _services_running(checkout):
            raise SystemExit(f"{checkout}: embedded {' and '.join(running)} already running (someone is using them)")
        if _answers(f"http://127.0.0.1:{args.port + offset}/healthz"):
            raise SystemExit(f"port {args.port + offset} already answers; pick another with --port")
        if args.fresh:
            shutil.rmtree(checkout / "var", ignore_errors=True)
    results: dict[Path, list[dict]] = {checkout: [] for checkout in checkouts}
    for number in range(1, args.runs + 1):
        for offset, checkout in enumerate(checkouts):
            result = one_run(checkout, args.port + offset, args.timeout)
            results[checkout].append(result)
            if args.log:
                sys.stdout.write("".join(result["log"]))
            label = "first" if number == 1 else ("second" if number == 2 else f"run {number}")
            _report(f"{checkout} {label} `make run`", result)
    print("\nsummary (later = runs 2.., median)")
    baseline = None
    for checkout, runs in results.items():
        later = sorted(r["ready"] for r in runs[1:]) or [float("nan")]
        later_cpu = sorted(r["cpu"] for r in runs[1:]) or [float("nan")]
        median, median_cpu = later[len(later) // 2], later_cpu[len(later_cpu) // 2]
        baseline = baseline or (median, median_cpu)
        print(
            f"  {str(checkout):<28} first {runs[0]['ready']:5.1f} s ({runs[0]['cpu']:5.1f} CPU s)   "
            f"later {median:5.1f} s ({median_cpu:5.1f} CPU s)   vs first checkout: "
            f"{median / baseline[0]:.2f}x wall, {median_cpu / baseline[1]:.2f}x CPU"
        )
    print("  aim: a second `make run` <= 10 s")


if __name__ == "__main__":
    main()

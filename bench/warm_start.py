"""Warm start: the first requests after gunicorn says "ready", next to the hundredth.

    .venv/bin/python bench/warm_start.py [--requests 100]

gunicorn is started twice on a scratch database, with the application preloaded and warmed in the
master (config/warmup.py, the default) and without (WEB_PRELOAD=0 WEB_WARMUP=0: each worker loads
the app on its first request, as before issue 15). For each page: the first request's time (the
slowest of the first two, since two workers each meet their first one) and the median of requests
91–110. Aim: first ≤ 3× the hundredth.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import scratch_database

PAGES = ("/accounts/login/", "/", "/chat/", "/agents/", "/documents/", "/files/", "/usage/", "/account/settings/")


def _timed(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code}")
    return elapsed


def measure(database: str, email: str, password: str, env: dict, requests: int) -> dict[str, tuple[float, float]]:
    import httpx

    from testutils.liveserver import gunicorn, login

    results = {}
    with gunicorn(database=database, env=env, workers=2, threads=8) as url:
        anonymous = httpx.Client(base_url=url, timeout=60)
        firsts = {"/accounts/login/": max(_timed(anonymous, "/accounts/login/") for _ in range(2))}
        client = login(url, email, password)
        for path in PAGES[1:]:
            firsts[path] = max(_timed(client, path) for _ in range(2))
        for path in PAGES:
            who = anonymous if path == "/accounts/login/" else client
            times = [_timed(who, path) for _ in range(requests + 10)]
            results[path] = (firsts[path], statistics.median(times[requests - 10:requests + 10]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    _plan, database = scratch_database("warm_bench")
    from testutils.testing import PASSWORD, make_user

    user = make_user("warm-bench@example.com")
    modes = {
        "preloaded and warmed": {},
        "cold workers (before)": {"WEB_PRELOAD": "0", "WEB_WARMUP": "0"},
    }
    for label, env in modes.items():
        started = time.monotonic()
        results = measure(database, user.email, PASSWORD, env, args.requests)
        print(f"\n{label} ({time.monotonic() - started:.0f} s)")
        print(f"  {'page':<22} {'first':>9} {'hundredth':>10} {'ratio':>7}")
        worst = 0.0
        for path, (first, hundredth) in results.items():
            ratio = first / hundredth
            worst = max(worst, ratio)
            print(f"  {path:<22} {first * 1000:7.1f}ms {hundredth * 1000:8.1f}ms {ratio:6.1f}x")
        print(f"  worst ratio {worst:.1f}x   aim <= 3x")


if __name__ == "__main__":
    main()

"""Where a JSON vote's CPU goes: cProfile (CPU time) over N votes through Flask's test
client, each with a fresh ticket and browser token, against a real redis-server (started
here, on a unix socket, stopped at the end); beside it, requests of a minimal Flask route.

    .venv/bin/python -m benchmarks.vote_profile [N] [--top K] [--callers NAME]

Prints to stderr (stdout carries the service's access lines) the CPU per vote (the first
half of the votes, unprofiled) and per minimal request, and the top functions of the
profiled half by own and by cumulative time. The test client skips the HTTP server, so the
figures are the app's own CPU (WSGI, Flask, the service, redis-py), not gunicorn's nor
Redis's.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from service import create_app, sites
from service.polls import rules as polls
from service.polls import votes
from tests.redis_proc import RedisProcess

SECRET = "profile-secret-0123456789abcdef"


def _minimal() -> Flask:
    app = Flask("minimal")

    @app.get("/")
    def index() -> str:
        return "ok"

    return app


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3000
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 25
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisProcess(Path(tmp)).start()
        try:
            app = create_app({"PW_REDIS_URL": server.url, "PW_SECRET_KEY": SECRET,
                              "PW_POLL_MAX_VOTES_PER_IP": str(n + 1)})
            with app.app_context():
                store = app.extensions["pw_store"]
                site, _ = sites.put_site(store, "thanhxuan", {})
                polls.create(store, site, {"id": "p1", "question": "Q?",
                                           "options": ["A", "B", "C"]},
                             now=datetime.now(UTC))
                tickets = [votes.issue_ticket(SECRET, site, "p1") for _ in range(n)]
            client = app.test_client()
            bodies = [{"options": ["o1"], "ticket": tickets[i], "token": f"tok-{i:08d}"}
                      for i in range(n)]
            # one address unit per 8 votes: within the attempt allowance of a minute
            addrs = [{"REMOTE_ADDR": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"}
                     for i in range(n)]
            for i in range(min(50, n)):  # warm up (scripts loaded, caches filled)
                client.get("/api/v1/sites/thanhxuan/polls/p1", environ_base=addrs[i])
            half = n // 2
            started = time.process_time()  # the first half unprofiled: CPU per vote
            codes = [client.post("/api/v1/sites/thanhxuan/polls/p1/votes", json=bodies[i],
                                 environ_base=addrs[i]).status_code for i in range(half)]
            vote_cpu = (time.process_time() - started) / half
            profile = cProfile.Profile(time.process_time)  # CPU, not waits for Redis
            profile.enable()
            codes += [client.post("/api/v1/sites/thanhxuan/polls/p1/votes", json=bodies[i],
                                  environ_base=addrs[i]).status_code for i in range(half, n)]
            profile.disable()
            assert set(codes) == {201}, {c: codes.count(c) for c in set(codes)}
            minimal = _minimal().test_client()
            started = time.process_time()
            for _ in range(half):
                minimal.get("/")
            minimal_cpu = (time.process_time() - started) / half
        finally:
            if server.proc is not None:
                server.proc.terminate()
                server.proc.wait()
    print(f"vote: {vote_cpu * 1e6:.0f} us CPU (unprofiled), minimal route: "
          f"{minimal_cpu * 1e6:.0f} us; ratio {minimal_cpu / vote_cpu:.2f}x", file=sys.stderr)
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(top)
        print(out.getvalue(), file=sys.stderr)
    if "--callers" in sys.argv:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_callers(
            sys.argv[sys.argv.index("--callers") + 1])
        print(out.getvalue(), file=sys.stderr)


if __name__ == "__main__":
    main()

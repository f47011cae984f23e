"""gunicorn settings: threaded workers, so a streamed answer holds a thread, not a process."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "32"))
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
graceful_timeout = 10
accesslog = "-"
errorlog = "-"


def when_ready(server):
    host, port = bind.rsplit(":", 1)
    print(f"\n  cjhirashi-agents is ready: http://{host}:{port}/  (Ctrl-C stops everything)\n", flush=True)

"""gunicorn settings: threaded workers, so a streamed answer holds a thread, not a process."""

import os

from config import embedded

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "32"))
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
graceful_timeout = 10
# The app is imported and warmed (config/warmup.py) once in the master, then the workers fork from
# it: the first request after "ready" answers like the hundredth, and the workers share the pages.
preload_app = os.environ.get("WEB_PRELOAD", "1") != "0"
# Per checkout, under var/: gunicorn's default ($XDG_RUNTIME_DIR/gunicorn.ctl) is shared by every
# checkout on the host, so a second `make run` would take over (or be refused) the first one's socket.
control_socket = str(embedded.gunicorn_control_socket())
accesslog = "-"
errorlog = "-"


def _worker_warmup() -> bool:
    return preload_app and os.environ.get("WEB_WARMUP", "1") != "0"


def _open_gate() -> None:
    from config.devserver import gate_open  # under `make run`: the worker and the scheduler start now

    gate_open("web")


def when_ready(server):
    host, port = bind.rsplit(":", 1)
    print(f"\n  cjhirashi-agents is ready: http://{host}:{port}/  (Ctrl-C stops everything)\n", flush=True)
    if not _worker_warmup():
        _open_gate()


def pre_fork(server, worker):
    """Freeze the preloaded heap before each fork, so that a worker's collections never scan it.

    The master holds every module, template and catalogue the warm-up loaded (hundreds of thousands
    of objects). Without this, a worker's first full collection walks them all, about 200 ms on the
    tenth request or so, and touches their pages, which then stop being shared with the master.
    """
    if preload_app:
        import gc

        gc.freeze()


def post_worker_init(worker):
    """Warm the forked worker before it accepts: in its thread pool, whose first thread then serves
    the first request with its pages copied and its database connection open."""
    pool = getattr(worker, "tpool", None)  # gthread's; another worker class has nothing to warm here
    try:
        if _worker_warmup() and pool is not None:
            from config.warmup import warm_worker

            # No timeout: the pass must end before the worker accepts (it turns off Django's
            # close_old_connections meanwhile). Its failures are its own; a hung database gets the
            # worker replaced by gunicorn's timeout, as a hung request would.
            seconds = pool.submit(warm_worker, worker.wsgi).result()
            worker.log.info("worker %s warmed in %.0f ms", worker.pid, seconds * 1000)
    except Exception:  # best effort: a worker that could not warm still serves
        worker.log.warning("worker %s could not warm up", worker.pid, exc_info=True)
    finally:
        # The Celery worker and scheduler wait for a warmed web worker: on two cores their start-up
        # would otherwise slow the pass the first page waits for (1.2 s under `make run`).
        if _worker_warmup():
            _open_gate()

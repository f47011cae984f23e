"""Threads kept between tasks: starting a thread costs a handshake with it (``Thread.start`` waits
until it runs) and, for a thread that uses the database, a new connection. A chat turn used two
(its runner, which writes the answer, and its provider pump); both are kept now."""

from __future__ import annotations

import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue


class KeptThreads:
    """Runs each submitted task in a thread of its own, reusing a thread that waits for work and
    starting one when none does. A thread ends after ``idle_seconds`` without work, calling
    ``on_exit``; ``after_task`` runs after each task. Callers bound how many tasks run at once."""

    def __init__(self, name: str, *, idle_seconds: float, after_task: Callable[[], None] | None = None,
                 on_exit: Callable[[], None] | None = None):
        self.name = name
        self.idle_seconds = idle_seconds
        self._after_task = after_task
        self._on_exit = on_exit
        self._tasks: SimpleQueue = SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a task that no queued task has claimed

    def submit(self, fn, *args) -> None:
        with self._lock:
            self._tasks.put((fn, args))
            if self._idle > 0:
                self._idle -= 1  # a waiting thread takes it
                return
        threading.Thread(target=self._work, name=self.name, daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                fn, args = self._tasks.get(timeout=self.idle_seconds)
            except Empty:
                with self._lock:
                    if not self._tasks.empty():
                        continue  # claimed while the wait ended: take it
                    self._idle -= 1
                if self._on_exit is not None:
                    self._on_exit()
                return
            try:
                fn(*args)
            finally:
                if self._after_task is not None:
                    self._after_task()
                with self._lock:
                    self._idle += 1

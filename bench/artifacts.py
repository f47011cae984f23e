"""Artifact capture: the server time it adds to a chat turn.

    .venv/bin/python bench/artifacts.py [--repeat 40]

A turn whose answer holds 5 code blocks (two of them named, revising the same two artifacts every
turn) and a Markdown table, posted and streamed to the last byte in-process through Django's test
client with a zero-delay fake provider (the model's own time excluded). The same turn is measured
with capture on and off (``ARTIFACTS_CAPTURE``), interleaved in the same run, and the capture call
alone (``artifacts.capture.capture_answer`` inside the answer's transaction) is timed too.
Aim: capture adds < 5 ms to a turn.
"""

from __future__ import annotations

import argparse
import time

from _setup import median, scratch_database

BLOCK = "\n".join(f"    value_{i} = compute({i}, factor=2)" for i in range(12))


def _fence(n: int) -> str:
    info = f'python title="part_{n}.py"' if n < 2 else "python"
    return f"```{info}\ndef part_{n}():\n{BLOCK}\n    return value_0\n```\n\n"


ANSWER = (
    "Here is the module, split in parts.\n\n"
    + "".join(_fence(n) for n in range(5))
    + "| name | value | note |\n|------|-------|------|\n"
    + "".join(f"| item {i} | {i * 3} | the note for item {i} |\n" for i in range(10))
    + "\nThat is all.\n"
)


class AnswerProvider:
    """Answers instantly with ``ANSWER`` in small pieces: only our code is measured."""

    name = "bench"

    def is_configured(self):
        return True

    def stream(self, *, model, messages, temperature, max_tokens, passages=None, cancel=None, timeout=None):
        from agents.providers import StreamEvent, Usage

        for start in range(0, len(ANSWER), 24):
            yield StreamEvent(text=ANSWER[start:start + 24])
        yield StreamEvent(usage=Usage(input_tokens=120, output_tokens=400), finished=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    plan, name = scratch_database("bench_artifacts")

    from django.conf import settings
    from django.urls import reverse

    import artifacts.capture as capture
    import chats.streaming as streaming
    from artifacts.models import Artifact
    from config import bootstrap
    from core.tenancy import tenant
    from testutils import factories
    from testutils.testing import client_for, make_user

    try:
        user = make_user("bench-artifacts@example.com", tier="ENTERPRISE")
        agent = factories.agent(user, is_public=True)
        with tenant(user.id):
            conversation = factories.conversation(user, agent_=agent)
        client = client_for(user)
        # The per-person limit on questions (core/ratelimit.py) would stop a benchmark's many turns.
        settings.RATE_LIMITS = {**getattr(settings, "RATE_LIMITS", {}), "messages": "1000000/60"}
        streaming.provider_for_model = lambda model_id: AnswerProvider()
        post_url = reverse("chats:message_create", args=[conversation.id])
        capture_times: list[float] = []
        real_capture = capture.capture_answer

        def timed_capture(**kwargs):
            started = time.perf_counter()
            try:
                return real_capture(**kwargs)
            finally:
                capture_times.append((time.perf_counter() - started) * 1000)

        capture.capture_answer = timed_capture

        def turn():
            data = client.post(post_url, {"content": "Write the module"}, HTTP_ACCEPT="application/json").json()
            started = time.perf_counter()
            body = b"".join(client.get(data["stream_url"]).streaming_content)
            elapsed = (time.perf_counter() - started) * 1000
            assert b'"status": "complete"' in body
            return elapsed

        on, off = [], []
        for _ in range(3):  # warm up caches, connections, the highlighter
            settings.ARTIFACTS_CAPTURE = True
            turn()
            settings.ARTIFACTS_CAPTURE = False
            turn()
        capture_times.clear()
        for _ in range(args.repeat):
            settings.ARTIFACTS_CAPTURE = True
            on.append(turn())
            settings.ARTIFACTS_CAPTURE = False
            off.append(turn())
        settings.ARTIFACTS_CAPTURE = True
        with tenant(user.id):
            kept = Artifact.objects.filter(conversation=conversation).count()
            versions = Artifact.objects.filter(conversation=conversation, name="part_0.py").count()
        per_turn = kept // (args.repeat + 3)
        added = median(on) - median(off)
        print(f"\nserver time of one turn (stream to the last byte), median of {args.repeat}, interleaved")
        print(f"  capture off                      {median(off):7.2f} ms")
        print(f"  capture on                       {median(on):7.2f} ms   (+{added:.2f} ms)")
        print(f"  capture call alone               {median(capture_times):7.2f} ms   aim < 5 ms")
        print(f"  artifacts kept per turn          {per_turn:7d}      (part_0.py reached version {versions})")
    finally:
        from django.db import connections

        for connection in connections.all():
            connection.close()
        bootstrap.drop_database(plan, name)


if __name__ == "__main__":
    main()

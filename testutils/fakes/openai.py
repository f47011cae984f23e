"""A fake OpenAI-compatible API: chat completions (streamed or not), embeddings, model list.

    with FakeServer(FakeOpenAI, script=Script(reply="Hello there", input_tokens=12)) as server:
        client = openai.OpenAI(api_key="sk-test", base_url=f"{server.url}/v1")

Behaviour comes from the server's ``script`` (a ``Script``; change ``server.httpd.script`` between
requests if needed). Each request is recorded in ``server.requests`` with its headers and JSON
body; streamed requests also get an ``outcome`` once the handler is done: ``"completed"``,
``"failed"`` (scripted failure sent), ``"hung"`` (scripted hang before any header), or
``"disconnected"`` (the client went away first), plus ``chunks_sent`` (text pieces sent).
``wait_for_outcome(server)`` waits for it.

``StreamingFakeHandler`` and ``Script`` are shared with the Anthropic fake.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import socket
import struct
import time
from dataclasses import dataclass, field

from testutils.fakes.server import FakeHandler


@dataclass
class Script:
    """What the fake model does with the next requests."""

    reply: str = "Hello! This is the fake model speaking."
    chunks: list[str] | None = None  # explicit text pieces; default: the reply split after each space
    delay: float = 0.0  # seconds to wait before sending each text piece
    fail_after: int | None = None  # after this many pieces, fail ...
    fail_with: str = "disconnect"  # ... by dropping the connection, or "error" for an SSE error event
    hang: float = 0.0  # sleep this long (longer than the client's timeout) ...
    hang_after: int | None = None  # ... after this many pieces; None: before sending any header
    status: int | None = None  # answer every request with this HTTP error status instead
    retry_after: int | None = None  # with status 429: the Retry-After header's seconds
    usage: bool = True  # OpenAI: send usage when asked (stream_options.include_usage); Anthropic always does
    input_tokens: int | None = None  # reported counts; default: words in the prompt / pieces sent
    output_tokens: int | None = None
    api_key: str | None = None  # when set, requests must carry this key or get a 401
    models: list[str] = field(default_factory=lambda: ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"])

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        words = self.reply.split(" ")
        return [w + " " for w in words[:-1]] + [words[-1]] if self.reply else []


def prompt_words(texts: list[str]) -> int:
    """The fake's own "token" count for a prompt: whitespace-separated words."""
    return sum(len(t.split()) for t in texts)


class StreamingFakeHandler(FakeHandler):
    """A ``FakeHandler`` that can send a chunked ``text/event-stream`` body and notice disconnects."""

    @property
    def script(self) -> Script:
        return getattr(self.server, "script", None) or Script()

    def record_request(self, body) -> dict:
        entry = {"method": self.command, "path": self.path, "headers": dict(self.headers), "json": body}
        self.server.requests.append(entry)
        return entry

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    # --- chunked server-sent events -----------------------------------------------------------

    def start_event_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def send_sse(self, data, event: str | None = None) -> None:
        payload = data if isinstance(data, str) else json.dumps(data)
        prefix = f"event: {event}\n" if event else ""
        self.write_chunk(f"{prefix}data: {payload}\n\n".encode())

    def end_event_stream(self) -> None:
        self.write_chunk(b"")  # the zero-length chunk ends the body

    def drop_connection(self) -> None:
        """Close the socket mid-body: the client sees an incomplete chunked response."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def run_stream(self, entry: dict, send_events) -> None:
        """Run ``send_events`` (which writes the body), recording how the stream ended."""
        entry["chunks_sent"] = 0
        try:
            send_events(entry)
        except OSError:  # broken pipe, connection reset: the client went away
            entry["outcome"] = "disconnected"
            self.close_connection = True
        else:
            entry.setdefault("outcome", "completed")

    def play_pieces(self, entry: dict, send_piece, send_failure) -> bool:
        """Send the scripted text pieces; return False when the script failed the stream instead."""
        script = self.script
        for index, piece in enumerate(script.pieces()):
            if script.fail_after is not None and index == script.fail_after:
                entry["outcome"] = "failed"
                if script.fail_with == "error":
                    send_failure()
                    self.end_event_stream()
                else:
                    self.drop_connection()
                return False
            if script.hang_after is not None and index == script.hang_after:
                time.sleep(script.hang)
            if script.delay:
                time.sleep(script.delay)
            send_piece(piece)
            entry["chunks_sent"] += 1
        return True

    def hang_before_headers(self, entry: dict) -> bool:
        """Sleep past the client's timeout when scripted; True if this request was left hanging."""
        script = self.script
        if script.hang and script.hang_after is None:
            time.sleep(script.hang)
            entry["outcome"] = "hung"
            self.close_connection = True
            return True
        return False


def wait_for_outcome(server, index: int = -1, timeout: float = 2.0) -> str | None:
    """Wait until the handler of a streamed request is done; its ``outcome`` (None if still running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        requests = server.requests
        if requests and requests[index].get("outcome"):
            return requests[index]["outcome"]
        time.sleep(0.01)
    return None


def fake_embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector derived from a hash of the text."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend((byte - 127.5) / 127.5 for byte in digest)
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


class FakeOpenAI(StreamingFakeHandler):
    def do_GET(self) -> None:
        self.record_request(None)
        if self.path_only != "/v1/models":
            return self.send_openai_error(404, "Not found", "invalid_request_error", "unknown_url")
        if self.reject_request():
            return
        self.send_json(
            {
                "object": "list",
                "data": [
                    {"id": model, "object": "model", "created": 1700000000, "owned_by": "fake"}
                    for model in self.script.models
                ],
            }
        )

    def do_POST(self) -> None:
        body = self.read_json() or {}
        entry = self.record_request(body)
        if self.path_only == "/v1/embeddings":
            if not self.reject_request():
                self.send_embeddings(body)
            return
        if self.path_only != "/v1/chat/completions":
            return self.send_openai_error(404, "Not found", "invalid_request_error", "unknown_url")
        if self.hang_before_headers(entry) or self.reject_request():
            return
        if body.get("stream"):
            self.run_stream(entry, lambda entry: self.stream_completion(entry, body))
        else:
            self.send_completion(body)

    # --- errors ---------------------------------------------------------------------------------

    def send_openai_error(self, status: int, message: str, type_: str, code: str | None) -> None:
        self.send_json({"error": {"message": message, "type": type_, "param": None, "code": code}}, status=status)

    def reject_request(self) -> bool:
        """Answer with the scripted HTTP error, or a 401 for a wrong key; True if it did."""
        script = self.script
        status = script.status
        wrong_key = script.api_key is not None and self.header("Authorization") != f"Bearer {script.api_key}"
        if status is None and wrong_key:
            status = 401
        if status is None:
            return False
        if status == 401:
            self.send_openai_error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        elif status == 429:
            headers = {"Retry-After": str(script.retry_after)} if script.retry_after else None
            self.send_json({"error": {"message": "Rate limit reached for requests.", "type": "requests", "param": None,
                                      "code": "rate_limit_exceeded"}}, status=429, headers=headers)
        elif status >= 500:
            message = "The server had an error while processing your request."
            self.send_openai_error(status, message, "server_error", None)
        else:
            self.send_openai_error(status, "Invalid request.", "invalid_request_error", None)
        return True

    # --- chat completions -----------------------------------------------------------------------

    def usage_for(self, body: dict, pieces: list[str]) -> dict:
        script = self.script
        texts = [str(m.get("content") or "") for m in body.get("messages") or []]
        prompt = script.input_tokens if script.input_tokens is not None else prompt_words(texts)
        completion = script.output_tokens if script.output_tokens is not None else len(pieces)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def chunk(self, body: dict, choices: list, usage=None, with_usage_field: bool = False) -> dict:
        data = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": body.get("model", ""),
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if with_usage_field:  # OpenAI sends "usage": null on every chunk once usage is requested
            data["usage"] = usage
        return data

    def stream_completion(self, entry: dict, body: dict) -> None:
        script = self.script
        include_usage = script.usage and bool((body.get("stream_options") or {}).get("include_usage"))

        def choice(delta: dict, finish_reason=None) -> list:
            return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]

        self.start_event_stream()
        self.send_sse(self.chunk(body, choice({"role": "assistant", "content": ""}), with_usage_field=include_usage))

        def send_piece(piece: str) -> None:
            self.send_sse(self.chunk(body, choice({"content": piece}), with_usage_field=include_usage))

        def send_failure() -> None:
            # What OpenAI sends when a stream breaks on its side: a data line holding an error object.
            self.send_sse({"error": {"message": "The server had an error while processing your request.",
                                     "type": "server_error", "param": None, "code": None}})

        if not self.play_pieces(entry, send_piece, send_failure):
            return
        pieces = script.pieces()
        self.send_sse(self.chunk(body, choice({}, "stop"), with_usage_field=include_usage))
        if include_usage:
            self.send_sse(self.chunk(body, [], usage=self.usage_for(body, pieces), with_usage_field=True))
        self.send_sse("[DONE]")
        self.end_event_stream()

    def send_completion(self, body: dict) -> None:
        script = self.script
        pieces = script.pieces()
        payload = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1700000000,
            "model": body.get("model", ""),
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(pieces), "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
        }
        if script.usage:
            payload["usage"] = self.usage_for(body, pieces)
        self.send_json(payload)

    # --- embeddings -----------------------------------------------------------------------------

    def send_embeddings(self, body: dict) -> None:
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) and i for i in inputs):
            return self.send_openai_error(400, "'input' must be a non-empty string or list of strings.",
                                          "invalid_request_error", None)
        dimensions = int(body.get("dimensions") or 8)
        data = []
        for index, text in enumerate(inputs):
            vector = fake_embedding(text, dimensions)
            if body.get("encoding_format") == "base64":  # the SDK's default: little-endian float32
                embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            else:
                embedding = vector
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = prompt_words(inputs)
        self.send_json(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", ""),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

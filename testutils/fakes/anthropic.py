"""A fake Anthropic Messages API: ``POST /v1/messages``, streamed (SSE) or not.

    with FakeServer(FakeAnthropic, script=Script(reply="Hi", input_tokens=30)) as server:
        client = anthropic.Anthropic(api_key="sk-ant-test", base_url=server.url)  # no /v1 here

The stream carries Anthropic's real events in order: ``message_start`` (input tokens),
``content_block_start``, ``ping``, ``content_block_delta`` (text deltas), ``content_block_stop``,
``message_delta`` (stop reason, output tokens), ``message_stop``. A scripted mid-stream failure is
an ``event: error`` with an ``overloaded_error`` (or a dropped connection). Requests and outcomes
are recorded as in the OpenAI fake, whose ``Script`` this fake shares.
"""

from __future__ import annotations

from testutils.fakes.openai import Script, StreamingFakeHandler, prompt_words

__all__ = ["FakeAnthropic", "Script"]

# HTTP status -> Anthropic's error type (https://docs.anthropic.com/en/api/errors).
ERROR_TYPES = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


def error_body(status: int) -> dict:
    type_, message = ERROR_TYPES.get(status, ERROR_TYPES[500] if status >= 500 else ERROR_TYPES[400])
    return {"type": "error", "error": {"type": type_, "message": message}, "request_id": "req_fake"}


def _text_of(content) -> str:
    """Message or system content: a string, or a list of blocks with ``text``."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return ""


class FakeAnthropic(StreamingFakeHandler):
    def do_POST(self) -> None:
        body = self.read_json() or {}
        entry = self.record_request(body)
        if self.path_only != "/v1/messages":
            return self.send_json(error_body(404), status=404)
        if self.hang_before_headers(entry) or self.reject_request(body):
            return
        if body.get("stream"):
            self.run_stream(entry, lambda entry: self.stream_message(entry, body))
        else:
            self.send_message(body)

    def reject_request(self, body: dict) -> bool:
        """The scripted HTTP error, a 401 for a wrong key, or a 400 for what the real API refuses."""
        script = self.script
        status = script.status
        if status is None and script.api_key is not None and script.api_key not in self.api_keys():
            status = 401
        if status is None and not self.header("anthropic-version"):
            status = 400
        if status is None and (not isinstance(body.get("max_tokens"), int) or not body.get("messages")):
            status = 400
        if status is None:
            return False
        self.send_json(error_body(status), status=status)
        return True

    def api_keys(self) -> set[str]:
        """Keys the request carries: SDK 2.x sends ``Authorization: Bearer``, older ones ``x-api-key``."""
        bearer = self.header("Authorization")
        return {self.header("x-api-key"), bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else ""} - {""}

    def counts(self, body: dict, pieces: list[str]) -> tuple[int, int]:
        script = self.script
        texts = [_text_of(body.get("system"))] + [_text_of(m.get("content")) for m in body.get("messages") or []]
        input_tokens = script.input_tokens if script.input_tokens is not None else prompt_words(texts)
        output_tokens = script.output_tokens if script.output_tokens is not None else len(pieces)
        return input_tokens, output_tokens

    def message(self, body: dict, content: list, stop_reason, usage: dict) -> dict:
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", ""),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    def stream_message(self, entry: dict, body: dict) -> None:
        pieces = self.script.pieces()
        input_tokens, output_tokens = self.counts(body, pieces)
        start_usage = {"input_tokens": input_tokens, "output_tokens": 1}

        self.start_event_stream()
        self.send_sse({"type": "message_start", "message": self.message(body, [], None, start_usage)}, "message_start")
        self.send_sse(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        )
        self.send_sse({"type": "ping"}, "ping")

        def send_piece(piece: str) -> None:
            self.send_sse(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
                "content_block_delta",
            )

        def send_failure() -> None:
            self.send_sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")

        if not self.play_pieces(entry, send_piece, send_failure):
            return
        self.send_sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        self.send_sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
            "message_delta",
        )
        self.send_sse({"type": "message_stop"}, "message_stop")
        self.end_event_stream()

    def send_message(self, body: dict) -> None:
        pieces = self.script.pieces()
        input_tokens, output_tokens = self.counts(body, pieces)
        content = [{"type": "text", "text": "".join(pieces)}]
        usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
        self.send_json(self.message(body, content, "end_turn", usage))

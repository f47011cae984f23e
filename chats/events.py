"""The events of an answer being written, kept in a Redis Stream per question.

The generation (``chats.generation``) appends each event (``sources``, ``delta``, ``done``,
``failed``) with XADD; any number of SSE connections tail it with XREAD BLOCK from the last id they
sent, so a browser that went away picks up where it left off (``Last-Event-ID``). A stream is
capped (MAXLEN) and expires ``EVENTS_TTL`` seconds after its last write: by then the answer is in
the database, and a late resume gets it from there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.core.cache import cache

KEY = "chat:events:{}"
EVENTS_TTL = 3600
# Far above any answer's deltas (one per provider chunk); a cap, not a limit anyone should meet.
MAXLEN = 20_000
TERMINAL = frozenset({"done", "failed"})
_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def _client():
    return cache._cache.get_client(write=True)  # the redis-py client behind Django's cache


def _key(message_id) -> str:
    return KEY.format(message_id)


def event_publish(message_id, event: str, data: dict) -> str:
    """Append one event; its stream id (what the browser sends back as ``Last-Event-ID``)."""
    client = _client()
    pipe = client.pipeline(transaction=True)
    pipe.xadd(_key(message_id), {"e": event, "d": json.dumps(data, ensure_ascii=False)}, maxlen=MAXLEN, approximate=True)
    pipe.expire(_key(message_id), EVENTS_TTL)
    entry_id, _ok = pipe.execute()
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


def events_publish_many(message_id, pairs: list[tuple[str, dict]], also: Callable[[object], None] | None = None) -> list[str]:
    """Append several events at once (one round trip); their stream ids, in order. ``also(pipe)``
    adds commands of the caller's to the same Redis transaction, after the events (a turn's end:
    its reservation and its lock released at the instant its final event appears)."""
    pipe = _client().pipeline(transaction=True)
    for event, data in pairs:
        pipe.xadd(_key(message_id), {"e": event, "d": json.dumps(data, ensure_ascii=False)}, maxlen=MAXLEN, approximate=True)
    pipe.expire(_key(message_id), EVENTS_TTL)
    if also is not None:
        also(pipe)
    ids = pipe.execute()[:len(pairs)]
    return [entry_id.decode() if isinstance(entry_id, bytes) else entry_id for entry_id in ids]


def events_clear(message_id) -> None:
    """Drop a question's events (a new answer to it is about to be written)."""
    _client().delete(_key(message_id))


# Claim a question in one round trip. KEYS: its events, its lock, its Stop (cache keys); ARGV: the
# lock's ttl. "orphan": events without a final one and no lock (a writer died: finish its answer);
# "busy": the lock is someone else's; else the lock is taken, and "done": the events end with a
# ``done`` (kept: only the database tells whether that answer is this question's current one),
# or "claimed": the events there were (an earlier answer's, or a refused turn's) are dropped.
# Returned with whether Stop was asked for the question (1/0).
_CLAIM_LUA = """
local stop = redis.call('EXISTS', KEYS[3])
local last = nil
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #newest > 0 then
  last = ''
  local fields = newest[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 'e' then last = fields[i + 1] end
  end
end
if last ~= nil and last ~= 'done' and last ~= 'failed' and redis.call('EXISTS', KEYS[2]) == 0 then
  return {'orphan', stop}
end
if not redis.call('SET', KEYS[2], 1, 'NX', 'EX', ARGV[1]) then return {'busy', stop} end
if last == 'done' then return {'done', stop} end
redis.call('DEL', KEYS[1])
return {'claimed', stop}
"""
_scripts: dict[str, object] = {}


def events_claim(message_id, *, lock_key: str, lock_ttl: int, stop_key: str) -> tuple[str, bool]:
    """Look at a question's events and take its lock at one instant: ("orphan", "busy", "done" or
    "claimed" (``_CLAIM_LUA`` says what each means), whether ``stop_key`` is set). The lock holds
    1, as ``cache.add`` stores it."""
    client = _client()
    script = _scripts.get("claim")
    if script is None:
        script = _scripts["claim"] = client.register_script(_CLAIM_LUA)
    outcome, stop = script(keys=[_key(message_id), lock_key, stop_key], args=[lock_ttl], client=client)
    return (outcome.decode() if isinstance(outcome, bytes) else outcome), bool(int(stop))


def redis_known_down() -> bool:
    """Whether a recent failure says Redis is down (``core.cache``'s circuit; no round trip)."""
    circuit = getattr(cache, "circuit", None)
    return circuit is not None and circuit.is_open()


def redis_failed(exc: Exception) -> None:
    """Tell the cache's circuit that Redis failed, as its own ping would (later calls skip it a while)."""
    circuit = getattr(cache, "circuit", None)
    if circuit is not None:
        circuit.trip(exc)


def events_exist(message_id) -> bool:
    return bool(_client().exists(_key(message_id)))


def _decode(entry_id, fields) -> tuple[str, str, dict]:
    def text(value):
        return value.decode() if isinstance(value, bytes) else value

    fields = {text(k): text(v) for k, v in fields.items()}
    try:
        data = json.loads(fields.get("d") or "{}")
    except ValueError:
        data = {}
    return text(entry_id), fields.get("e", ""), data if isinstance(data, dict) else {}


def events_read(message_id, *, after: str, block_ms: int | None = None, count: int = 500) -> list[tuple[str, str, dict]]:
    """(id, event, data) written after ``after`` ("0": from the start); with ``block_ms``, waits
    that long for the first one."""
    found = _client().xread({_key(message_id): after}, count=count, block=block_ms)
    if not found:
        return []
    _name, entries = found[0]
    return [_decode(entry_id, fields) for entry_id, fields in entries]


def events_read_and_exists(message_id, *, after: str, key: str, count: int = 500) -> tuple[list[tuple[str, str, dict]], bool]:
    """``events_read`` (without waiting) and whether ``key`` (a raw Redis key) exists, at one
    instant (MULTI, one round trip): with a writer that publishes its last event before it deletes
    its lock, "no new event and no lock" means it stopped without one."""
    pipe = _client().pipeline(transaction=True)
    pipe.xread({_key(message_id): after}, count=count)
    pipe.exists(key)
    found, exists = pipe.execute()
    if not found:
        return [], bool(exists)
    _name, entries = found[0]
    return [_decode(entry_id, fields) for entry_id, fields in entries], bool(exists)


def events_all(message_id) -> list[tuple[str, str, dict]]:
    return [_decode(entry_id, fields) for entry_id, fields in _client().xrange(_key(message_id))]


def events_finished(message_id) -> bool:
    """Whether the question's last event is a final one (``done`` or ``failed``)."""
    newest = _client().xrevrange(_key(message_id), count=1)
    return bool(newest) and _decode(*newest[0])[1] in TERMINAL


def _as_tuple(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence)


def resume_point(message_id, last_event_id: str | None) -> tuple[str, bool]:
    """Where a (re)connecting browser resumes: (stream id to read after, replaying from the start).

    A missing ``Last-Event-ID`` starts at the beginning. One that is not a stream id, or lies past
    the last event written (forged), or before the first one kept (from an earlier answer to the
    same question, or trimmed away), replays what exists from the start, and says so, so that the
    page drops what it showed.
    """
    raw = (last_event_id or "").strip()
    if not raw:
        return "0", False
    if not _ID.match(raw):
        return "0", True
    client = _client()
    newest, oldest = client.xrevrange(_key(message_id), count=1), client.xrange(_key(message_id), count=1)
    if not newest:
        return "0", True
    def text(value):
        return value.decode() if isinstance(value, bytes) else value

    if not _as_tuple(text(oldest[0][0])) <= _as_tuple(raw) <= _as_tuple(text(newest[0][0])):
        return "0", True
    return raw, False

"""Insert rate of messages and usage logs with the counter triggers on and off.

    .venv/bin/python bench/triggers.py [--rows 20000] [--rounds 2]

Inserts go the way the app writes them: single-row INSERT statements as the runtime role, inside
the owner's RLS context, spread over 200 conversations. Two transaction sizes: one row per
transaction (a chat turn commits its message and its usage log on its own: the app's path) and
100 rows per transaction (bulk imports). "Off" disables the tables' user triggers (counters,
owner filling, same-owner checks) with ALTER TABLE ... DISABLE TRIGGER USER as the owner role;
RLS stays on in both. Rounds alternate the order; the best round of each is reported.
Aim: on ≥ 0.7 of off.
"""

from __future__ import annotations

import argparse
import time
import uuid

from _setup import raw_connection, scratch_database

BATCH_SIZES = (1, 100)
CONVERSATIONS = 200


def _prepare(owner_conn, app_conn):
    from core.tenancy import tenant
    from testutils import factories
    from testutils.testing import make_user  # noqa: PLC0415 (Django is set up by now)

    user = make_user("bench@example.com")
    with tenant(user.id):
        agents = [factories.agent(user) for _ in range(10)]
        session = factories.chat_session(user)
        conversations = [factories.conversation(user, session=session, agent_=agents[i % 10]) for i in range(CONVERSATIONS)]
    return user, agents, conversations


def _insert_messages(conn, user, conversations, rows, batch):
    sql = ("INSERT INTO messages (id, conversation_id, user_id, role, content, tokens_input, tokens_output, metadata, timestamp) "
           "VALUES (%s, %s, %s, 'user', %s, 12, 34, '{}', now())")
    started = time.perf_counter()
    with conn.cursor() as cur:
        for start in range(0, rows, batch):
            cur.execute("SELECT set_config('app.user_id', %s, true)", [str(user.id)])
            cur.executemany(sql, [
                (uuid.uuid4(), conversations[i % CONVERSATIONS].id, user.id, f"message number {i} about the quarterly budget review")
                for i in range(start, min(start + batch, rows))
            ])
            conn.commit()
    return rows / (time.perf_counter() - started)


def _insert_usage(conn, user, agents, conversations, rows, batch):
    sql = ("INSERT INTO usage_logs (id, user_id, agent_id, conversation_id, tokens_input, tokens_output, total_tokens, model, "
           "cost_input, cost_output, total_cost, duration, success, timestamp) "
           "VALUES (%s, %s, %s, %s, 120, 340, 460, 'gpt-4o-mini', 0.000018, 0.000204, 0.000222, 850, true, now())")
    started = time.perf_counter()
    with conn.cursor() as cur:
        for start in range(0, rows, batch):
            cur.execute("SELECT set_config('app.user_id', %s, true)", [str(user.id)])
            cur.executemany(sql, [
                (uuid.uuid4(), user.id, conversations[i % CONVERSATIONS].agent_id, conversations[i % CONVERSATIONS].id)
                for i in range(start, min(start + batch, rows))
            ])
            conn.commit()
    return rows / (time.perf_counter() - started)


def _set_triggers(owner_conn, enabled: bool):
    verb = "ENABLE" if enabled else "DISABLE"
    with owner_conn.cursor() as cur:
        for table in ("messages", "usage_logs"):
            cur.execute(f"ALTER TABLE {table} {verb} TRIGGER USER")
    owner_conn.commit()


def _empty(owner_conn):
    with owner_conn.cursor() as cur:
        cur.execute("SELECT set_config('app.bypass', 'on', true)")  # the owner is subject to RLS too (FORCE)
        cur.execute("TRUNCATE messages, usage_logs, monthly_usage")
        cur.execute("UPDATE conversations SET message_count = 0, token_count = 0")
        cur.execute("UPDATE users SET total_messages = 0, total_tokens_used = 0")
        cur.execute("UPDATE agents SET total_uses = 0")
    owner_conn.commit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    plan, name = scratch_database("bench")
    from config import bootstrap

    owner_conn = raw_connection("owner")
    app_conn = raw_connection("default")
    try:
        user, agents, conversations = _prepare(owner_conn, app_conn)
        results = {(table, batch): {"on": [], "off": []} for table in ("messages", "usage_logs") for batch in BATCH_SIZES}
        for round_ in range(args.rounds):
            for mode in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
                _set_triggers(owner_conn, enabled=mode == "on")
                for batch in BATCH_SIZES:
                    _empty(owner_conn)
                    results[("messages", batch)][mode].append(_insert_messages(app_conn, user, conversations, args.rows, batch))
                    results[("usage_logs", batch)][mode].append(_insert_usage(app_conn, user, agents, conversations, args.rows, batch))
                    if mode == "on":
                        _check_counters(owner_conn, args.rows)
        _set_triggers(owner_conn, enabled=True)
        print(f"\n{args.rows:,} rows per run, best of {args.rounds} rounds; single-row INSERTs as the runtime role under RLS")
        print(f"{'table':<11} {'rows/txn':>8} {'triggers on':>14} {'triggers off':>14} {'ratio on/off':>13}")
        for (table, batch), modes in results.items():
            on, off = max(modes["on"]), max(modes["off"])
            print(f"{table:<11} {batch:>8} {on:>10,.0f} r/s {off:>10,.0f} r/s {on / off:>13.2f}")
    finally:
        owner_conn.close()
        app_conn.close()
        from django.db import connections

        connections.close_all()
        bootstrap.drop_database(plan, name)


def _check_counters(owner_conn, rows):
    """After a run with triggers on, the counters must be exact (a benchmark of wrong code is no use)."""
    with owner_conn.cursor() as cur:
        cur.execute("SELECT set_config('app.bypass', 'on', true)")
        cur.execute("SELECT sum(message_count) FROM conversations")
        assert cur.fetchone()[0] == rows
        cur.execute("SELECT total_messages FROM monthly_usage")
        assert cur.fetchone()[0] == rows
    owner_conn.rollback()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""WAL pages one Ingest's transaction writes, statement by statement (docs/storage.md).

Builds the SQLite store's tables (schemas 2, 3 and 4 side by side) in a scratch
file, fills them as the load generator does (1,000 conversations, 20,000 events and
answers), then runs 300 transactions of each shape (one call's statements, or 30
calls' as group commit writes them) and counts the frames each adds to the WAL
(PRAGMA wal_checkpoint reports them). Bodies are random so that SQLite's skip of an
unchanged cell does not hide a write.

    python3 bench/store/wal_pages.py [SCRATCH_DIR]
"""
import os
import random
import sqlite3
import sys
import tempfile

CONVERSATIONS = 1000
FILL = 20000
TRANSACTIONS = 300
GROUP = 30


def body(size):
    return "%0*d" % (size, random.getrandbits(64))


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="wal-pages-")
    path = os.path.join(folder, "wal_pages.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL").fetchall()
    db.execute("PRAGMA wal_autocheckpoint = 0").fetchall()
    db.executescript("""
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES('head', 0);
CREATE TABLE events(cursor INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
  body TEXT NOT NULL, UNIQUE(conversation_id, seq));
CREATE TABLE chained(cursor INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
  previous INTEGER, body TEXT NOT NULL);
CREATE TABLE event_heads(conversation_id TEXT PRIMARY KEY, cursor INTEGER NOT NULL, seq INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TABLE conversations(id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX conversations_by_contact ON conversations(contact_id);
CREATE TABLE seen_keyed(channel TEXT NOT NULL, external_id TEXT NOT NULL, contact_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY(channel, external_id));
CREATE TABLE seen_appended(channel TEXT NOT NULL, external_id TEXT NOT NULL, contact_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL, body TEXT NOT NULL);
""")
    conversation = ["cv_%012d" % i for i in range(CONVERSATIONS)]
    contact = ["ct_%012d" % i for i in range(CONVERSATIONS)]
    seq = [0] * CONVERSATIONS
    cursor = 0

    def event(i):
        nonlocal cursor
        cursor += 1
        seq[i] += 1
        db.execute("INSERT INTO events VALUES(?, ?, ?, ?)", (cursor, conversation[i], seq[i], body(265)))

    # Schema 4: the event names its conversation's previous one; the head moves.
    def chained_event(i):
        nonlocal cursor
        cursor += 1
        seq[i] += 1
        db.execute("INSERT INTO chained(cursor, conversation_id, seq, body, previous) VALUES(?, ?, ?, ?, "
                   "(SELECT cursor FROM event_heads WHERE conversation_id = ?))",
                   (cursor, conversation[i], seq[i], body(265), conversation[i]))
        db.execute("INSERT INTO event_heads VALUES(?, ?, ?) ON CONFLICT(conversation_id) DO UPDATE SET "
                   "cursor = excluded.cursor, seq = excluded.seq", (conversation[i], cursor, seq[i]))

    def answer(table, i):
        db.execute("INSERT INTO %s VALUES(?, ?, ?, ?, ?)" % table,
                   ("chat", "ext-%d" % random.getrandbits(60), contact[i], conversation[i], body(144)))

    db.execute("BEGIN")
    for i in range(CONVERSATIONS):
        db.execute("INSERT INTO conversations VALUES(?, ?, ?)", (conversation[i], contact[i], body(746)))
    for _ in range(FILL):
        i = random.randrange(CONVERSATIONS)
        event(i)
        chained_event(i)
        answer("seen_keyed", i)
        answer("seen_appended", i)
    db.execute("COMMIT")

    def upsert_conversation(i):
        db.execute("INSERT INTO conversations(id, contact_id, body) VALUES(?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                   "contact_id = excluded.contact_id, body = excluded.body", (conversation[i], contact[i], body(746)))

    def rewrite_conversation(i):
        db.execute("UPDATE conversations SET body = ? WHERE id = ? AND contact_id = ?",
                   (body(746), conversation[i], contact[i]))

    def raise_head(_):
        db.execute("UPDATE meta SET value = max(value, ?) WHERE key = 'head'", (cursor,))

    schema_3 = [event, event, rewrite_conversation, lambda i: answer("seen_appended", i)]
    schema_4 = [chained_event, chained_event, rewrite_conversation, lambda i: answer("seen_appended", i)]

    # GROUP Ingests of random conversations in one transaction, as group commit writes
    # them: pages a transaction shares (a table's last page, the heads) count once.
    def group(ingest):
        def run(_):
            for _ in range(GROUP):
                i = random.randrange(CONVERSATIONS)
                for statement in ingest:
                    statement(i)
        return run

    shapes = [
        ("one event", [event]),
        ("two events", [event, event]),
        ("one event, chained (+ its head)", [chained_event]),
        ("two events, chained", [chained_event, chained_event]),
        ("conversation upsert (sets contact_id)", [upsert_conversation]),
        ("conversation body rewritten", [rewrite_conversation]),
        ("answer, keyed (INSERT OR REPLACE)", [lambda i: answer("seen_keyed", i)]),
        ("answer, appended", [lambda i: answer("seen_appended", i)]),
        ("an Ingest, schema 2 (+ head)", [event, event, upsert_conversation, lambda i: answer("seen_keyed", i),
                                          raise_head]),
        ("an Ingest, schema 3", schema_3),
        ("an Ingest, schema 4", schema_4),
        ("%d Ingests, schema 3" % GROUP, [group(schema_3)]),
        ("%d Ingests, schema 4" % GROUP, [group(schema_4)]),
    ]
    for name, statements in shapes:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        for _ in range(TRANSACTIONS):
            i = random.randrange(CONVERSATIONS)
            db.execute("BEGIN")
            for statement in statements:
                statement(i)
            db.execute("COMMIT")
        frames = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0][1]
        print("%-40s %5.2f WAL pages per transaction" % (name, frames / TRANSACTIONS))


if __name__ == "__main__":
    main()

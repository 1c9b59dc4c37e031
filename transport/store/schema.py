"""The core's own tables, as migration scripts of the "core" namespace.

Append new scripts; never edit one that has shipped, or files already at that version
would never get the change.
"""

from __future__ import annotations

from typing import Final

CORE_NAMESPACE: Final = "core"

_V1: Final = """
CREATE TABLE users (
    component TEXT NOT NULL,
    jid TEXT NOT NULL,
    legacy_key TEXT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    registered_at REAL NOT NULL,
    PRIMARY KEY (component, jid)
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_legacy_key ON users (component, legacy_key)
    WHERE legacy_key IS NOT NULL;

CREATE TABLE subscriptions (
    component TEXT NOT NULL,
    user TEXT NOT NULL,
    contact TEXT NOT NULL,
    user_subscribed INTEGER NOT NULL DEFAULT 0,
    contact_subscribed INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    PRIMARY KEY (component, user, contact)
) WITHOUT ROWID;

CREATE TABLE user_settings (
    component TEXT NOT NULL,
    user TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (component, user, key)
) WITHOUT ROWID;

CREATE TABLE xmpp_queue (
    row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    component TEXT NOT NULL,
    to_jid TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX xmpp_queue_component ON xmpp_queue (component, row_id);
CREATE INDEX xmpp_queue_to ON xmpp_queue (component, to_jid);

CREATE TABLE dedupe_keys (
    component TEXT NOT NULL,
    key TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (component, key)
) WITHOUT ROWID;
CREATE INDEX dedupe_keys_created ON dedupe_keys (created_at);

CREATE TABLE legacy_outbox (
    row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    component TEXT NOT NULL,
    user TEXT NOT NULL,
    stanza_id TEXT NOT NULL,
    lane TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    legacy_ids TEXT NOT NULL DEFAULT '[]',
    error TEXT NULL,
    created_at REAL NOT NULL,
    UNIQUE (component, user, stanza_id)
);
CREATE INDEX legacy_outbox_state ON legacy_outbox (component, state, row_id);
CREATE INDEX legacy_outbox_created ON legacy_outbox (created_at);

CREATE TABLE id_map (
    component TEXT NOT NULL,
    legacy_id TEXT NOT NULL,
    user TEXT NOT NULL,
    full_jid TEXT NOT NULL,
    contact TEXT NOT NULL,
    xmpp_id TEXT NOT NULL,
    receipt_requested INTEGER NOT NULL DEFAULT 0,
    resolved INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    PRIMARY KEY (component, legacy_id)
) WITHOUT ROWID;
CREATE INDEX id_map_xmpp ON id_map (component, user, xmpp_id);
CREATE INDEX id_map_created ON id_map (created_at);
"""

# Outbox rows and de-duplication keys carry a digest of their content (see ``dedupe``): an
# id reused for other content is a new message, not a duplicate. Both uniqueness rules
# change, which SQLite can only do by rebuilding the table. Rows from version 1 get an
# empty digest, which no content has. The outbox keeps its AUTOINCREMENT counter, so a row
# id is never handed out twice.
_V2: Final = """
CREATE TABLE legacy_outbox_v2 (
    row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    component TEXT NOT NULL,
    user TEXT NOT NULL,
    stanza_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    lane TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    legacy_ids TEXT NOT NULL DEFAULT '[]',
    error TEXT NULL,
    created_at REAL NOT NULL,
    UNIQUE (component, user, stanza_id, digest)
);
INSERT INTO legacy_outbox_v2 (row_id, component, user, stanza_id, digest, lane, payload,
    state, attempts, next_attempt_at, legacy_ids, error, created_at)
SELECT row_id, component, user, stanza_id, '', lane, payload, state, attempts,
    next_attempt_at, legacy_ids, error, created_at FROM legacy_outbox ORDER BY row_id;
DELETE FROM sqlite_sequence WHERE name = 'legacy_outbox_v2';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'legacy_outbox_v2', seq FROM sqlite_sequence WHERE name = 'legacy_outbox';
DROP TABLE legacy_outbox;
ALTER TABLE legacy_outbox_v2 RENAME TO legacy_outbox;
CREATE INDEX legacy_outbox_state ON legacy_outbox (component, state, row_id);
CREATE INDEX legacy_outbox_created ON legacy_outbox (created_at);

CREATE TABLE dedupe_keys_v2 (
    component TEXT NOT NULL,
    key TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (component, key, digest)
) WITHOUT ROWID;
INSERT INTO dedupe_keys_v2 (component, key, digest, created_at)
    SELECT component, key, '', created_at FROM dedupe_keys;
DROP TABLE dedupe_keys;
ALTER TABLE dedupe_keys_v2 RENAME TO dedupe_keys;
CREATE INDEX dedupe_keys_created ON dedupe_keys (created_at);
"""

# Users the backend was told are online (``on_user_online`` without ``on_user_offline``
# since), so that a restart neither repeats the call nor forgets who to ask about.
_V3: Final = """
CREATE TABLE online_users (
    component TEXT NOT NULL,
    user TEXT NOT NULL,
    since REAL NOT NULL,
    PRIMARY KEY (component, user)
) WITHOUT ROWID;
"""

CORE_MIGRATIONS: Final[tuple[str, ...]] = (_V1, _V2, _V3)

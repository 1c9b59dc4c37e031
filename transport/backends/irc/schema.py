"""The IRC backend's own tables (namespace ``irc``), in migration order.

Preferences are per user and scope; the archive keeps one copy of each channel line, with
per-user presence windows deciding who may read what (biboumi stores a copy per user).
Version 2 records which channels each user is in, for restarts; version 3 adds the
channel's name as the server spells it and its key, so that a restart can rejoin a channel
protected by +k under its own name. Never edit a released script: add the next one.
"""

from __future__ import annotations

PREFS_TABLES = """
CREATE TABLE irc_prefs (
    component TEXT NOT NULL,
    user TEXT NOT NULL,
    scope TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (component, user, scope)
);
"""

ARCHIVE_TABLES = """
-- One row per archived channel, so lines carry a small integer, not three strings.
CREATE TABLE irc_archive_channels (
    id INTEGER PRIMARY KEY,
    component TEXT NOT NULL,
    server TEXT NOT NULL,
    channel TEXT NOT NULL,
    UNIQUE (component, server, channel)
);
-- One copy of each line. seq numbers a channel's lines in arrival order and ts never goes
-- backwards within a channel, so (ts, seq) is arrival order and the number of lines between
-- two timestamps is a difference of seqs: two index lookups, not a scan. uid (16 random
-- bytes) is the stanza-id and MAM id, shown as 32 hex digits.
CREATE TABLE irc_archive (
    row_id INTEGER PRIMARY KEY,
    chan_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    uid BLOB NOT NULL,
    kind INTEGER NOT NULL,
    nick TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX irc_archive_by_uid ON irc_archive (uid);
CREATE INDEX irc_archive_by_channel ON irc_archive (chan_id, ts, seq);
-- When each user (or their persistent presence) was in a channel: they read the lines
-- whose ts lies in one of their windows. closed is NULL while they are in, and a user has
-- at most one open window per channel.
CREATE TABLE irc_windows (
    chan_id INTEGER NOT NULL,
    user TEXT NOT NULL,
    opened REAL NOT NULL,
    closed REAL
);
CREATE INDEX irc_windows_by_user ON irc_windows (chan_id, user, opened);
CREATE UNIQUE INDEX irc_windows_open ON irc_windows (chan_id, user) WHERE closed IS NULL;
"""

JOINED_TABLE = """
-- The channels the gateway is in for each user (or will join: made persistent), so that a
-- restart rejoins those persistent for them, by a channel setting or by a default.
-- channel is case-folded, server lower-case, as in the irc_prefs scopes.
CREATE TABLE irc_joined (
    component TEXT NOT NULL,
    user TEXT NOT NULL,
    server TEXT NOT NULL,
    channel TEXT NOT NULL,
    PRIMARY KEY (component, user, server, channel)
);
-- Version 1 rejoined every channel whose own setting is persistent: carry those over.
INSERT OR IGNORE INTO irc_joined (component, user, server, channel)
SELECT component, user, substr(rest, 1, instr(rest, ':') - 1), substr(rest, instr(rest, ':') + 1)
FROM (SELECT component, user, substr(scope, 9) AS rest, data FROM irc_prefs
      WHERE scope LIKE 'channel:%')
WHERE instr(rest, ':') > 1
  AND CASE WHEN json_valid(data) THEN json_extract(data, '$.persistent') END = 1;
"""

JOINED_NAME_AND_KEY = """
-- The channel's display name (as the server spells it) and the key (+k) the gateway joined
-- with or learnt from MODE/324. NULL for rows written by version 2: the restart then joins
-- the folded name without a key, as before. The key is a password: never shown or logged.
ALTER TABLE irc_joined ADD COLUMN name TEXT;
ALTER TABLE irc_joined ADD COLUMN key TEXT;
"""

JOINED_NICK = """
-- The nick the gateway was in the channel with, so that a restart reconnects with it rather
-- than with the JID's localpart. NULL for rows of earlier versions: the configured nick (or
-- the localpart) is used for them, as before.
ALTER TABLE irc_joined ADD COLUMN nick TEXT;
"""

MIGRATIONS: tuple[str, ...] = (PREFS_TABLES + ARCHIVE_TABLES, JOINED_TABLE, JOINED_NAME_AND_KEY,
                               JOINED_NICK)

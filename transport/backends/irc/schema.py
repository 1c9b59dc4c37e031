"""The IRC backend's own tables (namespace ``irc``), in migration order.

Preferences are per user and scope; the archive keeps one copy of each channel line, with
per-user presence windows deciding who may read what (biboumi stores a copy per user).
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
CREATE TABLE irc_archive (
    row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    component TEXT NOT NULL,
    uid TEXT NOT NULL UNIQUE,
    server TEXT NOT NULL,
    channel TEXT NOT NULL,
    nick TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    ts REAL NOT NULL
);
CREATE INDEX irc_archive_by_channel ON irc_archive (component, server, channel, ts);
CREATE TABLE irc_windows (
    component TEXT NOT NULL,
    user TEXT NOT NULL,
    server TEXT NOT NULL,
    channel TEXT NOT NULL,
    opened REAL NOT NULL,
    closed REAL
);
CREATE INDEX irc_windows_by_user ON irc_windows (component, user, server, channel);
"""

MIGRATIONS: tuple[str, ...] = (PREFS_TABLES + ARCHIVE_TABLES,)

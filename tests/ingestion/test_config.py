"""Config loading: valid files become frozen dataclasses; every mistake names file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from maild.cli import main
from maild.config import load_config
from maild.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

GOOD = """
[maild]
database = "sqlite:///var/test.db"
archive_dir = "var/archive"

[[imap]]
name = "platform"
host = "127.0.0.1"
port = 1143
tls = "plain"
username = "alice"
password_env = "MAILD_TEST_PW"
folders = ["INBOX", "Amazon"]
after_archive = "move"
move_to = "Archived"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "maild.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_config_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    """GIVEN a valid file WHEN loaded THEN values are typed and relative paths anchored."""
    config = load_config(write(tmp_path, GOOD))
    account = config.imap[0]
    assert account.folders == ("INBOX", "Amazon")
    assert account.after_archive == "move" and account.move_to == "Archived"
    assert config.archive_dir == tmp_path / "var" / "archive"
    assert config.database == f"sqlite:///{tmp_path}/var/test.db"


def test_secret_is_read_only_when_revealed_and_never_in_repr(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """GIVEN password_env WHEN the config is printed THEN the password is not in it."""
    monkeypatch.setenv("MAILD_TEST_PW", "s3cret-value")
    config = load_config(write(tmp_path, GOOD))
    assert config.imap[0].password is not None
    assert config.imap[0].password.reveal() == "s3cret-value"
    assert "s3cret-value" not in repr(config)


@pytest.mark.parametrize(("change", "expected"), [
    (('tls = "plain"', 'tls = "plain"\nhost2 = 1'), "imap[0].host2: unknown key"),
    (('host = "127.0.0.1"', 'host = "imap.example.com"'), "imap[0].tls: 'plain' is allowed only"),
    (('password_env = "MAILD_TEST_PW"', 'password = "x"'), "imap[0].password: inline passwords"),
    (('port = 1143', 'port = "1143"'), "imap[0].port: must be an integer, not a string"),
    (('port = 1143', 'port = 1143.0'), "imap[0].port: must be an integer, not a number"),
    (('port = 1143', 'port = 0'), "imap[0].port: must be 1-65535"),
    (('port = 1143', 'batch_size = 0'), "imap[0].batch_size: must be a positive integer, not 0"),
    (('port = 1143', 'batch_size = true'), "imap[0].batch_size: must be an integer, not a bool"),
    (('port = 1143', 'connect_timeout = -1'),
     "imap[0].connect_timeout: must be a number of seconds above 0, not -1"),
    (('port = 1143', 'connect_timeout = nan'), "imap[0].connect_timeout: must be a finite"),
    (('port = 1143', 'connect_timeout = "30"'),
     "imap[0].connect_timeout: must be a number, not a string"),
    (('port = 1143', 'connect_timeout = true'),
     "imap[0].connect_timeout: must be a number, not a boolean"),
    (('port = 1143', 'reconnect_min_seconds = 0'),
     "imap[0].reconnect_min_seconds: must be a number of seconds above 0, not 0"),
    (('port = 1143', 'reconnect_min_seconds = 60\nreconnect_max_seconds = 5'),
     "imap[0].reconnect_max_seconds: must be at least reconnect_min_seconds (60), not 5"),
    (('folders = ["INBOX", "Amazon"]', 'folders = ["INBOX", "Amazon", "Amazon"]'),
     "imap[0].folders[2]: 'Amazon' is listed twice"),
    (('folders = ["INBOX", "Amazon"]', 'folders = ["INBOX", "inbox"]'),
     "imap[0].folders[1]: 'inbox' is listed twice"),
    (('folders = ["INBOX", "Amazon"]', 'folders = ["INBOX", 3]'),
     "imap[0].folders[1]: must be a string, not an integer"),
    (('move_to = "Archived"', 'move_to = "Amazon"'), "imap[0].move_to: 'Amazon' is a watched"),
    (('port = 1143', 'flag_keyword = "maild done"'), "imap[0].flag_keyword: must be one IMAP"),
    (('name = "platform"', 'name = ""'), "imap[0].name: must not be empty"),
    (('username = "alice"', 'username = ["alice"]'), "imap[0].username: must be a string, not a"
                                                     " list"),
    (('port = 1143', 'role = "archive"'),
     "imap[0].role: must be one of platform, replies, service, not 'archive'"),
    (('[[imap]]', '[imap]'), "imap: must be an array of tables: write [[imap]], not [imap]"),
    (('[maild]', 'maild = 1\n[maildx]'), "maild: must be a table, not an integer"),
    (('[maild]', '[maild]\nlease_seconds = 1.5'),
     "maild.lease_seconds: must be an integer, not a number"),
    (('[maild]', '[maild]\nstage_poll_seconds = 0'), "maild.stage_poll_seconds: must be a"),
    (('[maild]', '[maild]\narchive_sync = "sometimes"'), "maild.archive_sync: must be one of"),
    (('[maild]', '[maild]\nsecret_env = "A"\nsecret_file = "b"'),
     "maild.secret_*: give only one of _env, _file"),
    (('sqlite:///var/test.db', 'nosuchdb://x'),
     "maild.database: maild runs on SQLite or PostgreSQL, not 'nosuchdb'"),
    (('sqlite:///var/test.db', 'postgresql+nosuchdriver://h/db'),
     "maild.database: unknown database driver 'postgresql+nosuchdriver'"),
    (('sqlite:///var/test.db', 'not a url'), "maild.database: is not a database URL"),
    (('[maild]', '[[maildir]]\nname = "md"\npath = "var/md"\nrole = "inbox"\n[maild]'),
     "maildir[0].role: must be one of platform, replies, service"),
    (('[maild]', '[[maildir]]\nname = "platform"\npath = "var/md"\n[maild]'),
     "maildir[0].name: 'platform' is the name of another source"),
    (('[maild]', '[[maildir]]\nname = "md"\npath = "var/md"\n'
                 '[[dropfolder]]\nname = "drop"\npath = "var/md/"\n[maild]'),
     "dropfolder[0].path: "),
    (('[maild]', 'dropfolder = "var/drop"\n[maild]'),
     "dropfolder: must be an array of tables ([[dropfolder]]), not a string"),
    (('after_archive = "move"', 'after_archive = "delete"'), "imap[0].after_archive: must be one"),
    (('move_to = "Archived"', ''), "imap[0].move_to: is required"),
    (('folders = ["INBOX", "Amazon"]', 'folders = []'), "imap[0].folders"),
    (('[maild]', '[maild]\nlog_format = "xml"'), "maild.log_format"),
])
def test_invalid_config_names_file_and_key(tmp_path: Path, change: tuple[str, str],
                                           expected: str) -> None:
    """GIVEN one mistake WHEN loaded THEN ConfigError names the file and the key."""
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("imap = [1, 2]", "imap[0]: must be a table ([[imap]]), not an integer"),
    ('imap = "imap.example.com"', "imap: must be an array of tables ([[imap]]), not a string"),
    ("maildir = [[1]]", "maildir[0]: must be a table ([[maildir]]), not a list"),
    ("client = [true]", "client[0]: must be a table ([[client]]), not a boolean"),
    ("smtp = []", "smtp: must be a table, not a list"),
    ("fallback = 1", "fallback: must be a table, not an integer"),
])
def test_a_table_key_given_something_else_is_a_config_error(tmp_path: Path, text: str,
                                                             expected: str) -> None:
    """GIVEN a key that must hold tables given a number, a string or a list (7.7: `imap = [1,2]`
    was a traceback) WHEN loaded THEN a ConfigError names the file and the key."""
    path = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: {expected}"


def test_an_unknown_database_dialect_is_invalid_config_exit_2(tmp_path: Path) -> None:
    """GIVEN database = "nosuchdb://x" WHEN any command loads the config THEN it exits 2
    (invalid config, DESIGN 4.4) naming maild.database, not 1 at the first connection."""
    path = write(tmp_path, GOOD.replace("sqlite:///var/test.db", "nosuchdb://x"))
    result = CliRunner().invoke(main, ["--config", str(path), "status"])
    assert result.exit_code == 2, result.output
    assert f"{path}: maild.database: maild runs on SQLite or PostgreSQL" in result.output


def test_roles_of_sources_default_to_platform(tmp_path: Path) -> None:
    """GIVEN an IMAP account with role = "replies", a drop folder with role = "service" and a
    Maildir without a role WHEN loaded THEN each source carries its role (DESIGN 4.6)."""
    text = GOOD.replace('port = 1143', 'port = 1143\nrole = "replies"')
    text += ('\n[[maildir]]\nname = "md"\npath = "var/md"\n'
             '\n[[dropfolder]]\nname = "drop"\npath = "var/drop"\nrole = "service"\n')
    config = load_config(write(tmp_path, text))
    assert [config.imap[0].role] + [m.role for m in config.maildirs] == [
        "replies", "platform", "service"]


def test_broken_toml_reports_line(tmp_path: Path) -> None:
    """GIVEN a TOML syntax error WHEN loaded THEN the message has the file and the line."""
    with pytest.raises(ConfigError, match=r"invalid TOML.*line 3"):
        load_config(write(tmp_path, "[maild]\n\nthis is not toml\n"))


@pytest.mark.parametrize("name", ["maild.example.toml", "demo.toml"])
def test_shipped_example_configs_are_valid(name: str) -> None:
    """GIVEN the example configs in config/ WHEN loaded THEN they validate."""
    config = load_config(REPO / "config" / name)
    assert config.source_names()


def test_demo_config_sends_into_local_maildirs_for_two_clients() -> None:
    """GIVEN config/demo.toml (the README's run command) WHEN loaded THEN it "sends" into
    var/demo/outbox with no server, has two demo clients whose stores take the demo samples'
    seller address, and its reply-token key can be read."""
    config = load_config(REPO / "config" / "demo.toml")
    assert config.smtp is not None and config.smtp.host is None
    assert config.smtp.outbox_maildir == REPO / "var" / "demo" / "outbox"
    assert len(config.clients) == 2
    assert all("seller@example-shop.cn" in store.addresses
               for client in config.clients for store in client.stores)
    assert config.secret is not None and config.secret.reveal()


def test_password_file_and_token_command_are_read_when_revealed(tmp_path: Path) -> None:
    """GIVEN a password file and an OAuth2 token command WHEN revealed THEN the file's content
    (without the newline) and the command's output are returned; a failing command is a clear
    ConfigError that does not echo its output."""
    secret = tmp_path / "imap.secret"
    secret.write_text("file-secret\n")
    text = GOOD.replace('password_env = "MAILD_TEST_PW"', f'password_file = "{secret}"')
    text += ('\n[[imap]]\nname = "m365"\nhost = "127.0.0.1"\ntls = "plain"\n'
             'username = "u"\noauth2_token_command = "printf token-123"\n')
    config = load_config(write(tmp_path, text))
    assert config.imap[0].password is not None
    assert config.imap[0].password.reveal() == "file-secret"
    assert config.imap[1].oauth2_token is not None
    assert config.imap[1].oauth2_token.reveal() == "token-123"
    failing = load_config(write(tmp_path, text.replace("printf token-123", "false"))).imap[1]
    assert failing.oauth2_token is not None
    with pytest.raises(ConfigError, match="token command failed: false"):
        failing.oauth2_token.reveal()


def test_maildir_and_drop_folder_tables(tmp_path: Path) -> None:
    """GIVEN [[maildir]] and [[dropfolder]] tables WHEN loaded THEN each becomes a watched
    local source of its kind, with its path relative to the config."""
    config = load_config(write(tmp_path, '[[maildir]]\nname = "md"\npath = "var/md"\n\n'
                                         '[[dropfolder]]\nname = "drop"\npath = "/srv/drop"\n'))
    assert [(m.name, m.kind, str(m.path)) for m in config.maildirs] == [
        ("md", "maildir", str(tmp_path / "var" / "md")), ("drop", "drop", "/srv/drop")]

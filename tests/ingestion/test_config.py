"""Config loading: valid files become frozen dataclasses; every mistake names file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    (('port = 1143', 'port = "1143"'), "imap[0].port: must be a int"),
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


def test_broken_toml_reports_line(tmp_path: Path) -> None:
    """GIVEN a TOML syntax error WHEN loaded THEN the message has the file and the line."""
    with pytest.raises(ConfigError, match=r"invalid TOML.*line 3"):
        load_config(write(tmp_path, "[maild]\n\nthis is not toml\n"))


@pytest.mark.parametrize("name", ["maild.example.toml", "demo.toml"])
def test_shipped_example_configs_are_valid(name: str) -> None:
    """GIVEN the example configs in config/ WHEN loaded THEN they validate."""
    config = load_config(REPO / "config" / name)
    assert config.source_names()


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

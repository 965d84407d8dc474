"""The store's Sent folder (maild/outbound/sent_folder.py) against a real Dovecot: a sent
message is filed once, seen, at the time the server accepted it; a retry never files it twice;
failures say whether to retry and never show the password; the config table is checked the
way [[imap]] is."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from maild.config_table import Secret, Table
from maild.errors import ConfigError, PermanentFailure, TemporaryFailure
from maild.outbound.sent_folder import (
    SentFolder,
    append_once,
    find_message_id,
    parse_sent_folder,
)
from tests.support import DovecotServer, free_port

PASSWORD_ENV = "MAILD_TEST_SENT_PASSWORD"
WHEN = datetime(2026, 3, 10, 16, 15, 42, tzinfo=timezone(timedelta(hours=8)))


def reply(message_id: str) -> bytes:
    """A platform reply as the send step archives it: CRLF lines, its own Message-ID."""
    return (f"From: AcmeLight EU <amazon-eu@acme.example>\r\n"
            f"To: seller-performance@amazon.example\r\nSubject: Re: Plan of action\r\n"
            f"Date: Tue, 10 Mar 2026 16:15:40 +0800\r\nMessage-ID: {message_id}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Please find our plan of action below.\r\n").encode()


@pytest.fixture
def sent(dovecot_module: DovecotServer,
         monkeypatch: pytest.MonkeyPatch) -> Callable[[str], SentFolder]:
    """A SentFolder on the module's Dovecot (plain IMAP on loopback), folder as given."""
    monkeypatch.setenv(PASSWORD_ENV, dovecot_module.password)

    def make(folder: str) -> SentFolder:
        return SentFolder(host=dovecot_module.host, port=dovecot_module.port, tls="plain",
                          username=dovecot_module.user, password=Secret(env=PASSWORD_ENV),
                          folder=folder, timeout=5.0)

    return make


def test_append_once_files_one_copy(dovecot_module: DovecotServer,
                                    sent: Callable[[str], SentFolder]) -> None:
    """GIVEN a Sent folder without the message
    WHEN append_once is called twice for it
    THEN the first call appends (True), the second does not (False), and the folder holds one
    copy, byte for byte, flagged \\Seen."""
    folder = sent("Sent-once")
    raw = reply("<once.1@acme.example>")
    dovecot_module.create_folder(folder.folder)
    assert append_once(folder, raw, "<once.1@acme.example>", WHEN) is True
    assert append_once(folder, raw, "<once.1@acme.example>", WHEN) is False
    assert list(dovecot_module.fetch_all(folder.folder).values()) == [raw]
    assert list(dovecot_module.flags(folder.folder).values()) == [(b"\\Seen",)]


def test_a_copy_filed_before_a_crash_is_not_filed_again(
        dovecot_module: DovecotServer, sent: Callable[[str], SentFolder]) -> None:
    """GIVEN a Sent folder where the APPEND of a message landed but the daemon died before it
    recorded that (the copy is there, among others)
    WHEN the restarted daemon calls append_once for it
    THEN it appends nothing and says so (False)."""
    folder = sent("Sent-crash")
    dovecot_module.create_folder(folder.folder)
    dovecot_module.append(reply("<other@acme.example>"), folder.folder)
    dovecot_module.append(reply("<crash.7@acme.example>"), folder.folder)
    assert append_once(folder, reply("<crash.7@acme.example>"), "<crash.7@acme.example>",
                       WHEN) is False
    assert len(dovecot_module.uids(folder.folder)) == 2


def test_find_message_id_answers_exactly(dovecot_module: DovecotServer,
                                         sent: Callable[[str], SentFolder]) -> None:
    """GIVEN a folder holding <Case.42@acme.example>
    WHEN find_message_id asks for it, for another id, and for the same id in another case
    (IMAP SEARCH matches substrings without regard to case)
    THEN only the exact id is found, and nothing in the folder was marked \\Seen."""
    folder = sent("Sent-find")
    dovecot_module.create_folder(folder.folder)
    dovecot_module.append(reply("<Case.42@acme.example>"), folder.folder)
    assert find_message_id(folder, "<Case.42@acme.example>") is True
    assert find_message_id(folder, "<case.42@acme.example>") is False
    assert find_message_id(folder, "<Case.43@acme.example>") is False
    assert list(dovecot_module.flags(folder.folder).values()) == [()]


def test_a_missing_folder_is_created_and_subscribed(dovecot_module: DovecotServer,
                                                    sent: Callable[[str], SentFolder]) -> None:
    """GIVEN an account without a Sent folder
    WHEN find_message_id asks, then append_once files a message
    THEN the first finds nothing and creates nothing; the second creates the folder, subscribes
    to it (mail programs list subscribed folders) and files the message."""
    folder = sent("Sent")
    assert "Sent" not in dovecot_module.folders()
    assert find_message_id(folder, "<new.1@acme.example>") is False
    assert "Sent" not in dovecot_module.folders()
    assert append_once(folder, reply("<new.1@acme.example>"), "<new.1@acme.example>", WHEN)
    assert "Sent" in dovecot_module.folders()
    with dovecot_module.client() as imap:
        assert "Sent" in [name for _flags, _sep, name in imap.list_sub_folders()]
    assert find_message_id(folder, "<new.1@acme.example>") is True


def test_a_folder_that_is_only_a_parent_is_created(dovecot_module: DovecotServer,
                                                  sent: Callable[[str], SentFolder]) -> None:
    """GIVEN "Outbox/archive" exists, so LIST shows "Outbox" as a mere parent of it
    WHEN append_once files a message into "Outbox"
    THEN "Outbox" is created as a folder and holds the message."""
    dovecot_module.create_folder("Outbox/archive")
    folder = sent("Outbox")
    assert append_once(folder, reply("<parent.1@acme.example>"), "<parent.1@acme.example>",
                       WHEN) is True
    assert len(dovecot_module.uids("Outbox")) == 1


def test_internaldate_is_the_time_given(dovecot_module: DovecotServer,
                                        sent: Callable[[str], SentFolder]) -> None:
    """GIVEN a moment with a non-UTC offset (the server's acceptance)
    WHEN append_once files the message
    THEN the server's INTERNALDATE is that moment, to the second."""
    folder = sent("Sent-date")
    append_once(folder, reply("<date.1@acme.example>"), "<date.1@acme.example>", WHEN)
    with dovecot_module.client() as imap:
        imap.normalise_times = False
        imap.select_folder(folder.folder, readonly=True)
        fetched = imap.fetch(imap.search("ALL"), ["INTERNALDATE"])
    (data,) = fetched.values()
    assert data[b"INTERNALDATE"] == WHEN
    assert data[b"INTERNALDATE"].astimezone(UTC) == datetime(2026, 3, 10, 8, 15, 42, tzinfo=UTC)


def test_wrong_password_is_permanent_and_not_shown(
        dovecot_module: DovecotServer, sent: Callable[[str], SentFolder],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a wrong password in the environment
    WHEN append_once tries to file a message
    THEN PermanentFailure names the server, the user and the folder and says to check the
    password, and neither it, its cause nor the traceback holds the password."""
    monkeypatch.setenv(PASSWORD_ENV, "Wrong-Secret-73")
    folder = sent("Sent-auth")
    with pytest.raises(PermanentFailure) as failed:
        append_once(folder, reply("<auth.1@acme.example>"), "<auth.1@acme.example>", WHEN)
    message = str(failed.value)
    assert f"{dovecot_module.host}:{dovecot_module.port}" in message
    assert repr(dovecot_module.user) in message and "'Sent-auth'" in message
    assert "login refused" in message and "AUTHENTICATIONFAILED" in message
    assert "password_env" in message
    shown = "".join(traceback.format_exception(failed.value)) + repr(failed.value)
    assert "Wrong-Secret-73" not in shown


def test_no_server_is_a_temporary_failure(sent: Callable[[str], SentFolder]) -> None:
    """GIVEN a port where nothing listens
    WHEN find_message_id is called
    THEN TemporaryFailure names the server (try again later)."""
    folder = replace(sent("Sent"), port=free_port())
    with pytest.raises(TemporaryFailure, match=f"127.0.0.1:{folder.port}"):
        find_message_id(folder, "<x@acme.example>")


def test_an_unreadable_password_is_temporary(sent: Callable[[str], SentFolder],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the password's environment variable unset (fixable without a config change)
    WHEN find_message_id is called
    THEN TemporaryFailure names the folder and the variable."""
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(TemporaryFailure, match=f"'Sent' of .*{PASSWORD_ENV} is not set"):
        find_message_id(sent("Sent"), "<x@acme.example>")


def test_starttls_not_offered_is_permanent(dovecot_module: DovecotServer,
                                           sent: Callable[[str], SentFolder]) -> None:
    """GIVEN tls = "starttls" and a server that does not offer STARTTLS
    WHEN find_message_id is called
    THEN PermanentFailure says so: the password is never sent in clear."""
    folder = replace(sent("Sent"), tls="starttls")
    with pytest.raises(PermanentFailure, match="STARTTLS"):
        find_message_id(folder, "<x@acme.example>")


def test_a_message_id_that_is_not_the_messages_own_is_refused(
        dovecot_module: DovecotServer, sent: Callable[[str], SentFolder]) -> None:
    """GIVEN a message whose Message-ID differs from the one the caller names
    WHEN append_once is called
    THEN ValueError, and nothing is filed (a search would never find the copy again, so every
    retry would file one more)."""
    folder = sent("Sent-mismatch")
    dovecot_module.create_folder(folder.folder)
    with pytest.raises(ValueError, match="own Message-ID"):
        append_once(folder, reply("<a@acme.example>"), "<b@acme.example>", WHEN)
    with pytest.raises(ValueError, match="timezone-aware"):
        append_once(folder, reply("<a@acme.example>"), "<a@acme.example>",
                    datetime(2026, 3, 10, 8, 0))
    assert dovecot_module.uids(folder.folder) == []


# --------------------------------------------------------------------------- parse_sent_folder


def sent_table(tmp_path: Path, **values: Any) -> Table:
    """[client.store.sent] of maild.toml holding ``values``."""
    return Table(values, "client[0].store[0].sent.", "maild.toml", tmp_path)


def test_parse_reads_the_keys_with_their_defaults(tmp_path: Path) -> None:
    """GIVEN a table with host, username and password_env only, and one with STARTTLS
    WHEN it is parsed
    THEN TLS is implicit on port 993, the folder is Sent, the timeout 30 s; STARTTLS gets 143;
    the password stays a reference."""
    folder = parse_sent_folder(sent_table(tmp_path, host="imap.acme.example",
                                          username="amazon-eu@acme.example",
                                          password_env="ACME_IMAP_PW"))
    assert folder == SentFolder(host="imap.acme.example", port=993, tls="implicit",
                                username="amazon-eu@acme.example",
                                password=Secret(env="ACME_IMAP_PW"))
    assert folder.folder == "Sent" and folder.timeout == 30.0 and folder.ca_file is None
    starttls = parse_sent_folder(sent_table(
        tmp_path, host="imap.acme.example", tls="starttls", username="u",
        password_file="secrets/imap", folder="Gesendete Elemente", timeout=5))
    assert (starttls.port, starttls.folder, starttls.timeout) == (143, "Gesendete Elemente", 5.0)
    assert starttls.password == Secret(file=tmp_path / "secrets" / "imap")


@pytest.mark.parametrize(("values", "key", "says"), [
    ({"password": "hunter2-inline"}, "password", "inline passwords are not accepted"),
    ({"tls": "plain"}, "tls", "only for loopback hosts, not 'imap.acme.example'"),
    ({"folders": ["Sent"]}, "folders", "unknown key"),
    ({"password_env": None}, "password_env", "is required"),
    ({"password_file": "pw"}, "password_*", "give only one of _env, _file"),
    ({"port": 0}, "port", "must be 1-65535"),
    ({"tls": "ssl"}, "tls", "must be one of implicit, starttls, plain"),
    ({"ca_file": "no/such.pem"}, "ca_file", "no such file"),
])
def test_parse_errors_name_the_file_and_key(tmp_path: Path, values: dict[str, Any], key: str,
                                            says: str) -> None:
    """GIVEN a [client.store.sent] table with one mistake
    WHEN it is parsed
    THEN ConfigError names maild.toml, the key path and the mistake, and never an inline
    password's value."""
    data = {"host": "imap.acme.example", "username": "u", "password_env": "PW"} | values
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ConfigError) as failed:
        parse_sent_folder(sent_table(tmp_path, **data))
    assert str(failed.value).startswith(f"maild.toml: client[0].store[0].sent.{key}: ")
    assert says in str(failed.value)
    assert "hunter2-inline" not in str(failed.value)


def test_parse_allows_plain_on_loopback(tmp_path: Path) -> None:
    """GIVEN tls = "plain" with host 127.0.0.1 and with localhost
    WHEN parsed
    THEN both are accepted, on port 143."""
    for host in ("127.0.0.1", "localhost"):
        folder = parse_sent_folder(sent_table(tmp_path, host=host, tls="plain", username="u",
                                              password_env="PW"))
        assert (folder.tls, folder.port) == ("plain", 143)

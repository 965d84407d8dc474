"""The embedded outbox (maild/outbound/maildir_transport.py): one Maildir per recipient, exact
bytes, tmp -> new, all or nothing; and the dispatch between it and SMTP."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from maild.errors import TemporaryFailure
from maild.outbound.maildir_transport import deliver_to_maildirs, maildir_name, transport_send
from tests.outbound.conftest import settings_for
from tests.support import SmtpSink

RAW = ("From: desk@advisor.example\r\nTo: ops@acme.example\r\nSubject: 摘要\r\n"
       "Message-ID: <m1@advisor.example>\r\n\r\n.leading dot\r\n账户健康\r\n").encode()


def test_each_recipient_gets_the_exact_bytes_in_new(tmp_path: Path) -> None:
    """GIVEN an outbox root that does not exist yet
    WHEN a message is delivered to two recipients
    THEN each has a Maildir (tmp, new, cur) named after the address, holding one file in new/
    with exactly the bytes given, readable by the owner only; tmp/ is empty; the receipt says
    250, names both files and uses the file name as queue id."""
    root = tmp_path / "var" / "demo" / "outbox"
    receipt = deliver_to_maildirs(root, ["ops@acme.example", "anna@advisor.example"], RAW)
    for address in ("ops@acme.example", "anna@advisor.example"):
        folder = root / address
        assert sorted(p.name for p in folder.iterdir()) == ["cur", "new", "tmp"]
        (delivered,) = (folder / "new").iterdir()
        assert delivered.read_bytes() == RAW
        assert stat.S_IMODE(delivered.stat().st_mode) == 0o600
        assert delivered.name == receipt.queue_id
        assert str(delivered) in receipt.text
        assert list((folder / "tmp").iterdir()) == []
    assert receipt.code == 250 and receipt.refused == {}


def test_a_second_message_is_a_second_file(tmp_path: Path) -> None:
    """GIVEN a recipient's Maildir holding one message
    WHEN another is delivered
    THEN new/ holds two files under different names."""
    first = deliver_to_maildirs(tmp_path, ["ops@acme.example"], RAW)
    second = deliver_to_maildirs(tmp_path, ["ops@acme.example"], RAW + b"again\r\n")
    assert first.queue_id != second.queue_id
    assert len(list((tmp_path / "ops@acme.example" / "new").iterdir())) == 2


@pytest.mark.parametrize(("address", "name"), [
    ("../../etc@x.example", "%2E.%2F..%2Fetc@x.example"),
    ("a/b@x.example", "a%2Fb@x.example"),
    ("a%2Fb@x.example", "a%252Fb@x.example"),
    (".hidden@x.example", "%2Ehidden@x.example"),
    ("Li.Wei+acme@x.example", "Li.Wei+acme@x.example"),
])
def test_folder_names_stay_inside_the_root_and_apart(address: str, name: str) -> None:
    """GIVEN addresses with slashes, dots and percent signs
    WHEN their Maildir names are made
    THEN no name climbs out of the root, hides, or collides with another address's name."""
    assert maildir_name(address) == name


def test_an_unwritable_recipient_leaves_nobody_served(tmp_path: Path) -> None:
    """GIVEN two recipients where the second's Maildir cannot be made (a file is in its place)
    WHEN the message is delivered
    THEN TemporaryFailure names the outbox, and the first recipient's new/ and tmp/ are empty,
    so the retry does not deliver to it twice."""
    (tmp_path / "blocked@acme.example").write_text("not a folder")
    with pytest.raises(TemporaryFailure, match=str(tmp_path)):
        deliver_to_maildirs(tmp_path, ["ops@acme.example", "blocked@acme.example"], RAW)
    for sub in ("new", "tmp"):
        assert list((tmp_path / "ops@acme.example" / sub).iterdir()) == []


def test_transport_send_follows_the_settings(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    """GIVEN [smtp] with transport = "maildir:PATH", and [smtp] with a host
    WHEN transport_send is called with each
    THEN the first writes the Maildir and sends nothing, the second sends to the server."""
    local = settings_for(smtp_sink.port, host=None, outbox_maildir=tmp_path / "outbox")
    transport_send(local, "desk@advisor.example", ["ops@acme.example"], RAW)
    assert len(list((tmp_path / "outbox" / "ops@acme.example" / "new").iterdir())) == 1
    assert smtp_sink.received == []
    receipt = transport_send(settings_for(smtp_sink.port), "desk@advisor.example",
                             ["ops@acme.example"], RAW)
    assert smtp_sink.wait_for(1)[0].queue_id == receipt.queue_id

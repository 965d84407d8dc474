"""Reading messages from paths: which files in a directory count as mail, how mbox files and
Maildirs are labelled (the ``source`` of ``maild parse``), and what is skipped and reported."""

from __future__ import annotations

import mailbox
import os
import socket
import threading
from pathlib import Path

from maild.errors import SourceError
from maild.sources.files import RawMessage, iter_path


def read(path: Path) -> tuple[list[RawMessage], list[str]]:
    """Every message at ``path`` and the text of every problem reported on the way."""
    problems: list[SourceError] = []
    messages = list(iter_path(path, problems.append))
    return messages, [str(p) for p in problems]


def test_directory_yields_mail_files_in_order_and_skips_labels(tmp_path: Path) -> None:
    """GIVEN .eml files with .json labels and notes beside them WHEN the directory is read
    THEN only the mail comes out, in sorted order, recursing into subfolders."""
    (tmp_path / "b.eml").write_bytes(b"Subject: b\n\nb")
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.msg").write_bytes(b"Subject: a\n\na")
    (tmp_path / "1700000000.M1P2.host").write_bytes(b"Subject: c\n\nc")
    messages, problems = read(tmp_path)
    sources = [m.source for m in messages]
    assert sources == [str(tmp_path / "1700000000.M1P2.host"), str(tmp_path / "b.eml"),
                       str(tmp_path / "sub" / "a.msg")]
    assert problems == []


def test_a_named_file_is_read_whatever_its_suffix(tmp_path: Path) -> None:
    """GIVEN a file named on the command line WHEN read THEN it is one message, suffix or not."""
    path = tmp_path / "notice.json"
    path.write_bytes(b"Subject: x\n\nbody")
    assert read(path) == ([RawMessage(str(path), b"Subject: x\n\nbody")], [])


def test_mbox_messages_are_labelled_path_hash_n(tmp_path: Path) -> None:
    """GIVEN an mbox of three messages WHEN read THEN sources are path#1..#3 in order."""
    box = mailbox.mbox(str(tmp_path / "box"))
    for i in range(3):
        box.add(f"Subject: {i}\n\nbody {i}\n".encode())
    box.close()
    messages, _ = read(tmp_path / "box")
    assert [m.source for m in messages] == [f"{tmp_path / 'box'}#{i}" for i in (1, 2, 3)]
    assert [b"Subject: 1" in m.raw for m in messages] == [False, True, False]


def test_missing_path_is_reported(tmp_path: Path) -> None:
    """GIVEN a path that does not exist WHEN read THEN no message, one problem naming it."""
    assert read(tmp_path / "nope") == ([], [f"{tmp_path / 'nope'}: no such file or directory"])


def test_bad_entries_are_skipped_with_a_reason_and_the_walk_goes_on(tmp_path: Path) -> None:
    """GIVEN a directory whose entries, in sorted order, are a FIFO named .eml, a FIFO without
    a suffix, a socket, a dangling link and a link to a file outside, between good messages
    WHEN read THEN every good message comes out, each bad entry is reported once with what it
    is, and nothing blocks (a FIFO is never opened for a blocking read)."""
    (tmp_path / "a.eml").write_bytes(b"Subject: a\n\na")
    os.mkfifo(tmp_path / "b.eml")
    os.mkfifo(tmp_path / "c-pipe")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "d.sock"))
        (tmp_path / "e.eml").symlink_to(tmp_path / "gone")
        outside = tmp_path.parent / f"{tmp_path.name}-secret"
        outside.write_bytes(b"root-only secret")
        (tmp_path / "f.eml").symlink_to(outside)
        (tmp_path / "z.eml").write_bytes(b"Subject: z\n\nz")
        result: list[tuple[list[RawMessage], list[str]]] = []
        reader = threading.Thread(target=lambda: result.append(read(tmp_path)), daemon=True)
        reader.start()
        reader.join(10)
    assert not reader.is_alive(), "the walk blocked on a FIFO"
    messages, problems = result[0]
    assert [m.source for m in messages] == [str(tmp_path / "a.eml"), str(tmp_path / "z.eml")]
    assert problems == [f"{tmp_path / 'b.eml'}: a FIFO, skipped",
                        f"{tmp_path / 'c-pipe'}: a FIFO, skipped",
                        f"{tmp_path / 'd.sock'}: a socket, skipped",
                        f"{tmp_path / 'e.eml'}: a symbolic link (not followed inside a directory;"
                        f" name its target to read it), skipped",
                        f"{tmp_path / 'f.eml'}: a symbolic link (not followed inside a directory;"
                        f" name its target to read it), skipped"]


def test_directory_links_are_not_followed_so_a_loop_reads_each_message_once(
        tmp_path: Path) -> None:
    """GIVEN a directory holding a link to itself (a loop) and a link to /etc WHEN read
    THEN its one message comes out once, nothing of /etc is read, both links are reported."""
    (tmp_path / "mail.eml").write_bytes(b"Subject: once\n\nonce")
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "etc").symlink_to("/etc")
    messages, problems = read(tmp_path)
    assert [m.source for m in messages] == [str(tmp_path / "mail.eml")]
    assert [p.split(": ")[0] for p in problems] == [str(tmp_path / "etc"), str(tmp_path / "loop")]
    assert all("symbolic link" in p for p in problems)


def test_a_named_link_is_followed(tmp_path: Path) -> None:
    """GIVEN links to a message file and to a directory, named as the paths to read
    WHEN read THEN both are followed: the operator chose them."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "m.eml").write_bytes(b"Subject: m\n\nm")
    (tmp_path / "file-link").symlink_to(tmp_path / "real" / "m.eml")
    (tmp_path / "dir-link").symlink_to(tmp_path / "real")
    assert read(tmp_path / "file-link") == (
        [RawMessage(str(tmp_path / "file-link"), b"Subject: m\n\nm")], [])
    assert read(tmp_path / "dir-link") == (
        [RawMessage(str(tmp_path / "dir-link" / "m.eml"), b"Subject: m\n\nm")], [])


def test_a_named_fifo_is_reported_as_what_it_is(tmp_path: Path) -> None:
    """GIVEN a FIFO named on the command line (no writer) WHEN read THEN it is reported as a
    FIFO, not as a missing file, and the read does not block."""
    os.mkfifo(tmp_path / "pipe")
    assert read(tmp_path / "pipe") == ([], [f"{tmp_path / 'pipe'}: a FIFO, skipped"])


def test_maildir_entries_that_are_not_regular_files_are_skipped(tmp_path: Path) -> None:
    """GIVEN a Maildir with a message, a link to a file outside and a FIFO in new/
    WHEN read THEN only the message comes out and the other two are reported."""
    box = mailbox.Maildir(str(tmp_path / "md"))
    box.add(b"Subject: kept\n\nkept")
    box.close()
    (tmp_path / "secret").write_bytes(b"secret")
    (tmp_path / "md" / "new" / "2.link").symlink_to(tmp_path / "secret")
    os.mkfifo(tmp_path / "md" / "new" / "3.fifo")
    messages, problems = read(tmp_path / "md")
    assert [m.raw for m in messages] == [b"Subject: kept\n\nkept"]
    assert [p.rsplit(": ", 1)[1] for p in problems] == [
        "a symbolic link (not followed inside a directory; name its target to read it), skipped",
        "a FIFO, skipped"]

"""Reading messages from paths: which files in a directory count as mail, and how mbox files
and Maildirs are labelled (the ``source`` of ``maild parse``)."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from maild.errors import SourceError
from maild.sources.files import iter_path


def test_directory_yields_mail_files_in_order_and_skips_labels(tmp_path: Path) -> None:
    """GIVEN .eml files with .json labels and notes beside them WHEN the directory is read
    THEN only the mail comes out, in sorted order, recursing into subfolders."""
    (tmp_path / "b.eml").write_bytes(b"Subject: b\n\nb")
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.msg").write_bytes(b"Subject: a\n\na")
    (tmp_path / "1700000000.M1P2.host").write_bytes(b"Subject: c\n\nc")
    sources = [m.source for m in iter_path(tmp_path)]
    assert sources == [str(tmp_path / "1700000000.M1P2.host"), str(tmp_path / "b.eml"),
                       str(tmp_path / "sub" / "a.msg")]


def test_a_named_file_is_read_whatever_its_suffix(tmp_path: Path) -> None:
    """GIVEN a file named on the command line WHEN read THEN it is one message, suffix or not."""
    path = tmp_path / "notice.json"
    path.write_bytes(b"Subject: x\n\nbody")
    assert [m.raw for m in iter_path(path)] == [b"Subject: x\n\nbody"]


def test_mbox_messages_are_labelled_path_hash_n(tmp_path: Path) -> None:
    """GIVEN an mbox of three messages WHEN read THEN sources are path#1..#3 in order."""
    box = mailbox.mbox(str(tmp_path / "box"))
    for i in range(3):
        box.add(f"Subject: {i}\n\nbody {i}\n".encode())
    box.close()
    messages = list(iter_path(tmp_path / "box"))
    assert [m.source for m in messages] == [f"{tmp_path / 'box'}#{i}" for i in (1, 2, 3)]
    assert [b"Subject: 1" in m.raw for m in messages] == [False, True, False]


def test_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or directory"):
        list(iter_path(tmp_path / "nope"))

"""atomic_file: whole files or none, with the mode the umask gives (not mkstemp's 0600)."""

from __future__ import annotations

import os
import stat

import pytest

from silhouette_cam.atomic_file import atomic_output, default_file_mode, write_bytes, write_text


@pytest.fixture
def umask():
    """Set the process umask for one test, restoring it after."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o027, 0o640)])
def test_written_files_follow_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert default_file_mode() == mode
    path = write_text(tmp_path / "scores.json", "{}")
    assert stat.S_IMODE(path.stat().st_mode) == mode
    with atomic_output(tmp_path / "w.safetensors") as tmp:
        tmp.write_bytes(b"x")
    assert stat.S_IMODE((tmp_path / "w.safetensors").stat().st_mode) == mode


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "weights.safetensors"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="writer crashed"), atomic_output(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer crashed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["weights.safetensors"]


def test_unwritable_folder_is_one_line_naming_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match=r"^cannot write training state .*file/x.train-state: .*file is a file, not a "
                                      r"folder$"):
        write_bytes(blocker / "x.train-state", b"data", what="training state")
    readonly = tmp_path / "readonly"
    readonly.mkdir(mode=0o500)
    if os.access(readonly, os.W_OK):
        return  # running as root: permissions are not enforced
    with pytest.raises(OSError, match=r"^cannot write file .*x.bin: .*permission denied$"):
        write_bytes(readonly / "x.bin", b"data")


def test_replaces_an_existing_file(tmp_path):
    target = write_bytes(tmp_path / "a.bin", b"one")
    write_bytes(target, b"two")
    assert target.read_bytes() == b"two"

"""What a run starts from: its files in a throwaway work dir, and its stdin."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath


def checked(files: dict[str, str]) -> dict[PurePosixPath, str]:
    """files by relative path; ValueError for a name that leaves the work dir."""
    paths = {}
    for name, text in files.items():
        path = PurePosixPath(name)
        if "\0" in name or path.is_absolute() or not path.parts or ".." in path.parts:
            raise ValueError(
                f"file name must be relative and inside the work dir: {name!r}"
            )
        paths[path] = text
    return paths


@contextlib.contextmanager
def work_dir(files: dict[PurePosixPath, str], *, owner: int | None) -> Iterator[Path]:
    """A fresh directory holding files, all owned by owner, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="edgemesh-run-"))
    try:
        _write(root, files, owner=owner)
        yield root
    finally:
        _remove(root)


def stdin_file(data: bytes) -> int:
    """An fd of an in-memory file holding data, to hand a run as its stdin."""
    fd = os.memfd_create("edgemesh-stdin", os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _write(root: Path, files: dict[PurePosixPath, str], *, owner: int | None) -> None:
    made = [root]
    for path, text in files.items():
        folder = root
        for part in path.parts[:-1]:
            folder = folder / part
            if not folder.is_dir():
                folder.mkdir()
                made.append(folder)
        target = folder / path.name
        target.write_text(text, encoding="utf-8")
        made.append(target)

    if owner is not None:
        for made_path in made:
            os.chown(made_path, owner, owner)


def _remove(root: Path) -> None:
    """Delete a work dir even if the program made parts of it unwritable."""
    try:
        shutil.rmtree(root)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass

    # Unlock each directory before listing it; only real directories, since
    # chmod follows symlinks and the program chose where those point.
    pending = [str(root)]
    while pending:
        folder = pending.pop()
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
            with os.scandir(folder) as entries:
                pending += [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    shutil.rmtree(root, ignore_errors=True)

"""Refuse outputs that would replace an input, before anything is written.

Paths are compared as the files they name (resolved, so `./a/../clip.mp4`, symlinks and hard links
count as the same file), never as strings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when `a` and `b` name the same file: one inode when both exist, else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def check_output_file(output: str | os.PathLike, inputs: Iterable[str | os.PathLike], *, what: str = "output") -> None:
    """ValueError when the output file is one of the inputs (it would be overwritten while being read)."""
    for item in inputs:
        if same_file(output, item):
            raise ValueError(f"{what} {output} is the input {item}: it would be overwritten; "
                             "choose another output path")


def check_output_folder(folder: str | os.PathLike, written_names: Iterable[str],
                        inputs: Iterable[str | os.PathLike], *, what: str = "output folder") -> None:
    """ValueError when writing `written_names` into `folder` would replace one of the `inputs` files.

    `written_names` are the file names the command will create there (e.g. `photo.png` for each input);
    a folder that merely contains the inputs is fine as long as no input would be replaced.
    """
    folder = Path(folder)
    targets = [folder / name for name in written_names]
    for item in inputs:
        if not Path(item).is_file():
            continue
        for target in targets:
            if target.exists() and same_file(target, item) or Path(target).resolve() == Path(item).resolve():
                raise ValueError(f"{what} {folder} would overwrite the input {item} with {target.name}; "
                                 "choose another output folder")


def check_output_not_inside_input(output: str | os.PathLike, input_folder: str | os.PathLike, *,
                                  what: str = "output") -> None:
    """ValueError when `output` is `input_folder` itself (frames written among the frames being read)."""
    if Path(input_folder).is_dir() and same_file(output, input_folder):
        raise ValueError(f"{what} {output} is the input folder {input_folder}: its images would be mixed with "
                         "the output; choose another output path")

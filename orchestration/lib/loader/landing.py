"""The landing folder: which files are exports, and which are new.

The loader and the landing-folder sensor read the folder through these functions, so both agree
on what a landing file is: `<export>__<anything>.<ext>`, not hidden (`.`) and not a note (`_`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from orchestration.lib.contract import EXPORTS, FILE_EXTENSIONS

# Longest first, so `x.csv.gz` is recognised as csv.gz and not as an unknown `.gz`.
_EXTENSIONS = sorted(FILE_EXTENSIONS, key=len, reverse=True)


def parse_file_name(name: str) -> tuple[str | None, str | None]:
    """(export, extension) of `<export>__<anything>.<ext>`; export is None when it is no export."""
    extension = next((ext for ext in _EXTENSIONS if name.endswith(f".{ext}")), None)
    if extension is None or "__" not in name:
        return None, extension
    export = name.split("__", 1)[0]
    return (export if export in EXPORTS else None), extension


def _is_landing_file(path: Path) -> bool:
    """Not a note (`_`, `.`); a folder counts, so that it is reported (its files are not read)."""
    return not path.name.startswith(("_", ".")) and (path.is_file() or path.is_dir())


def landing_files(landing_dir: Path) -> dict[str | None, list[Path]]:
    """Landing files by export (None: matches no export or extension, or a folder), each list
    sorted by name."""
    files: dict[str | None, list[Path]] = {}
    if not landing_dir.is_dir():
        return files
    for path in sorted(landing_dir.iterdir(), key=lambda path: path.name):
        if not _is_landing_file(path):
            continue
        export, _ = parse_file_name(path.name)
        files.setdefault(export, []).append(path)
    return files


def landing_listing(landing_dir: Path) -> dict[str, list[int]]:
    """Name -> [size, mtime_ns] of every landing file with an accepted extension.

    What a watcher compares between two looks at the folder: a new or rewritten file changes it.
    """
    paths = [path for group in landing_files(landing_dir).values() for path in group]
    return {
        path.name: [path.stat().st_size, path.stat().st_mtime_ns]
        for path in sorted(paths, key=lambda path: path.name)
        if parse_file_name(path.name)[1] is not None
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()

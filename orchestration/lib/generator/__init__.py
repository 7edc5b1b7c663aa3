"""The synthetic vendor: `seatshift generate` writes the exports of the export contract.

`generate()` is deterministic (same parameters and seed, same bytes) and tells the story the
warehouse exists to find; `_manifest.json` lists what was injected on purpose (billing errors,
bad rows) so tests and the dashboard can check that the warehouse finds exactly those.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.lib.contract import EXPORTS
from orchestration.lib.generator.core import FORMATS, generate

# The committed sample in seeds/: small enough to commit (a few MB), big enough to show the story.
SAMPLE_PARAMETERS: dict = {
    "accounts": 40,
    "months": 14,
    "start": "2025-01",
    "seed": 7,
    "fmt": "csv",
    "usage_per_seat_day": 0.15,
    "bad_rows": True,
    "pilot": True,
}

__all__ = ["FORMATS", "SAMPLE_PARAMETERS", "generate", "generated_files", "write_sample"]


def generated_files(out_dir: Path) -> list[Path]:
    """The files in out_dir that the generator owns: `<export>__*` files and the manifest."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    return sorted(
        path
        for path in out_dir.iterdir()
        if path.is_file()
        and (path.name == "_manifest.json" or path.name.split("__", 1)[0] in EXPORTS)
    )


def write_sample(out_dir: Path) -> dict:
    """Regenerates the committed sample: the generator's files are replaced, nothing else."""
    for path in generated_files(out_dir):
        path.unlink()
    return generate(Path(out_dir), **SAMPLE_PARAMETERS)

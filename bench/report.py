"""The bench's Markdown: one table of figures and target ratios, one of dashboard queries."""

from __future__ import annotations

import re
from pathlib import Path

DOCS_START = "<!-- bench:start (python -m bench --docs writes between these lines) -->"
DOCS_END = "<!-- bench:end -->"


def seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 100:
        return f"{value:.1f} s"
    return f"{value:,.0f} s ({value / 60:.1f} min)"


def gigabytes(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**30:.2f} GiB"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def verdict(value: float | None, bound: float, *, at_least: bool = False) -> str:
    if value is None:
        return "not measured"
    met = value >= bound if at_least else value <= bound
    return "met" if met else "NOT met"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    def _cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def replace_docs_section(doc: Path, text: str) -> None:
    """Puts `text` between the bench markers of docs/benchmarks.md."""
    content = doc.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(DOCS_START) + r".*?" + re.escape(DOCS_END), re.DOTALL)
    if not pattern.search(content):
        raise ValueError(f"{doc.name} has no bench markers ({DOCS_START})")
    replacement = f"{DOCS_START}\n{text.strip()}\n{DOCS_END}"
    doc.write_text(pattern.sub(lambda _: replacement, content), encoding="utf-8")

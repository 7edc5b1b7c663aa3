"""One line of progress on stderr, with the seconds since the command began."""

from __future__ import annotations

import sys
import time


def say_progress(began: float, text: str) -> None:
    print(f"[{time.monotonic() - began:6.1f} s] {text}", file=sys.stderr, flush=True)

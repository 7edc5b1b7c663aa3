"""`python -m orchestration.cli`: the `seatshift` command without its script."""

import sys

from orchestration.cli import main

sys.exit(main())

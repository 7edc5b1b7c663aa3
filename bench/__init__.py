"""seatshift's bench: `python -m bench` (`make bench`) measures a whole refresh against its bounds.

One run generates the demo company at a given scale, times a full refresh stage by stage, the
lower bound (one DuckDB pass over the same files), the peers (pandas, polars streaming) and our
own rollup, a one-day incremental refresh and every dashboard query, and writes one Markdown
table to `bench/results/`. See `python -m bench --help`.
"""

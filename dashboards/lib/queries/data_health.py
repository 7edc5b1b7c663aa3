"""The Data health page's reading: what each refresh loaded, quarantined and expected
(audit.load_report, audit.quarantine, audit.expectation_results).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.contract.sql import literal

from ._core import QueryFailed, _connection, _read, warehouse

EXAMPLES_PER_RULE = 3


def _refresh_params(refresh_id: str | None) -> tuple:
    # `refresh_id = None` means every refresh; SQL sees it twice (the null test and the match).
    return (refresh_id, refresh_id)


_IN_REFRESH = "(cast(? as varchar) is null or refresh_id = ?)"


# ---- loads -----------------------------------------------------------------------------------


def load_totals(refresh_id: str | None) -> pd.Series:
    """files_loaded, files_skipped, files_rejected, rows_read/loaded/duplicate/quarantined."""
    frame = _read(
        "the load totals",
        f"""
        select
            count(*) filter (where status = 'loaded') as files_loaded,
            count(*) filter (where status = 'skipped_already_loaded') as files_skipped,
            count(*) filter (where status = 'rejected') as files_rejected,
            coalesce(sum(rows_read), 0) as rows_read,
            coalesce(sum(rows_loaded), 0) as rows_loaded,
            coalesce(sum(rows_duplicate), 0) as rows_duplicate,
            coalesce(sum(rows_quarantined), 0) as rows_quarantined
        from audit.load_report
        where {_IN_REFRESH}
        """,
        _refresh_params(refresh_id),
    )
    return frame.iloc[0]


def load_report(refresh_id: str | None) -> pd.DataFrame:
    """One row per landing file seen by the refresh (all refreshes when refresh_id is None)."""
    return _read(
        "the load report",
        f"""
        select
            refresh_id,
            loaded_at,
            file_name,
            export,
            status,
            rows_read,
            rows_loaded,
            rows_duplicate,
            rows_quarantined,
            message,
            content_sha256
        from audit.load_report
        where {_IN_REFRESH}
        order by loaded_at desc nulls last, file_name
        """,
        _refresh_params(refresh_id),
    )


# ---- quarantine ------------------------------------------------------------------------------


def quarantine_by_rule(refresh_id: str | None) -> pd.DataFrame:
    return _read(
        "the quarantined rows",
        f"""
        with

        quarantined as (select * from audit.quarantine where {_IN_REFRESH}),

        by_rule as (
            select
                export,
                rule,
                count(*) as rows_quarantined,
                count(distinct file_name) as files
            from quarantined
            group by export, rule
        )

        select * from by_rule
        order by rows_quarantined desc, export, rule
        """,
        _refresh_params(refresh_id),
    )


def quarantined_rows_csv(refresh_id: str | None) -> bytes:
    """Every quarantined row with every column the loader keeps, as CSV, for the download (the
    reader may need all of them). Written by DuckDB when the reader asks for the file: a first
    import can quarantine hundreds of thousands of rows (622,943 rows took 8.8 s through pandas
    on every visit of the page), and the page offers the file, it does not show the rows."""
    current = warehouse()
    if not current.exists:
        raise QueryFailed(
            "Could not read the quarantined rows.", f"No warehouse file at {current.path}."
        )
    scope = "true" if refresh_id is None else f"refresh_id = {literal(refresh_id)}"
    with tempfile.TemporaryDirectory(prefix="seatshift-quarantine-") as folder:
        target = Path(folder) / "quarantined_rows.csv"
        try:
            with _connection(str(current.path), current.version) as connection:
                connection.execute(
                    f"""
                    copy (
                        select * from audit.quarantine
                        where {scope}
                        order by export, file_name, row_number
                    ) to {literal(str(target))} (header, delimiter ',')
                    """
                )
        except duckdb.Error as error:
            raise QueryFailed(
                "Could not read the quarantined rows.", f"{type(error).__name__}: {error}"
            ) from error
        return target.read_bytes()


def quarantine_examples(refresh_id: str | None, per_rule: int = EXAMPLES_PER_RULE) -> pd.DataFrame:
    """The first few quarantined rows of each export and rule: what a broken row looks like."""
    return _read(
        "examples of quarantined rows",
        f"""
        with

        quarantined as (select * from audit.quarantine where {_IN_REFRESH}),

        ranked as (
            select
                export,
                rule,
                file_name,
                row_number,
                raw_record,
                row_number() over (
                    partition by export, rule order by file_name, row_number
                ) as example_rank
            from quarantined
        )

        select * exclude (example_rank) from ranked
        where example_rank <= ?
        order by export, rule, example_rank
        """,
        (*_refresh_params(refresh_id), per_rule),
    )


# ---- expectations ----------------------------------------------------------------------------


def expectation_totals(refresh_id: str | None) -> pd.Series:
    """expectations_run, expectations_failed, critical_failed."""
    frame = _read(
        "the expectation results",
        f"""
        select
            count(*) as expectations_run,
            count(*) filter (where not success) as expectations_failed,
            count(*) filter (where not success and is_critical) as critical_failed
        from audit.expectation_results
        where {_IN_REFRESH}
        """,
        _refresh_params(refresh_id),
    )
    return frame.iloc[0]


def expectation_results(refresh_id: str | None) -> pd.DataFrame:
    """Failed first, critical before warning, so the reader starts with what blocked a build."""
    return _read(
        "the expectation results",
        f"""
        select
            case
                when success then 'passed'
                when is_critical then 'FAILED (critical)'
                else 'failed (warning)'
            end as outcome,
            success,
            is_critical,
            export,
            relation,
            expectation_type,
            column_name,
            element_count,
            unexpected_count,
            unexpected_count / nullif(element_count, 0) as unexpected_rate,
            unexpected_examples,
            details,
            refresh_id,
            validated_at
        from audit.expectation_results
        where {_IN_REFRESH}
        order by success, is_critical desc, export, expectation_type, column_name
        """,
        _refresh_params(refresh_id),
    )

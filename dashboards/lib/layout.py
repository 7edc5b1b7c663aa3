"""Pieces every page shares: the freshness header, the sidebar filters, guarded tables.

The router calls `freshness_header` and `sidebar_filters` before running the page, so the as-of
time is always visible and filter widgets, owned by the entrypoint, keep their values across pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from dashboards.lib import access, audit, queries
from dashboards.lib.definitions import definition, segment_label, segment_labels
from dashboards.lib.format import MISSING, ago, as_utc, timestamp
from dashboards.lib.freshness import is_stale, next_daily_run
from dashboards.lib.shaping import PORTFOLIO
from orchestration.lib.contract import EXPORTS
from orchestration.lib.settings import REFRESH_SCHEDULE_CRON

T = TypeVar("T")

FILTERS_KEY = "filters"
# The keys are the URL's query parameters too (bind="query-params"): a view can be shared.
SEGMENT_KEY = "segments"
PERIOD_KEY = "period"
LINKED_PERIOD_KEY = "_period_from_link"  # the months a shared link named by id (accept_ids_in_url)
MONTH_COLUMN = st.column_config.DateColumn("Month", format="MMM YYYY")


@dataclass(frozen=True)
class Filters:
    segments: tuple[str, ...]  # empty means every segment
    period: tuple[date, date] | None  # first months of the inclusive range; None means all data

    @property
    def scope(self) -> str:
        """The chosen segments in words, for captions."""
        return ", ".join(map(segment_label, self.segments)) if self.segments else "all segments"

    @property
    def scope_heading(self) -> str:
        """`scope` at the start of a sentence (its first letter capital, a label's own case kept:
        "SMB, Mid-market")."""
        return self.scope[:1].upper() + self.scope[1:]


def guarded(load: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Run a query; on failure say so in a sentence and keep the details one click away."""
    try:
        return load(*args, **kwargs)
    except queries.QueryFailed as failure:
        explain(failure)
        return None


def revenue_portfolio(filters: Filters) -> pd.DataFrame | None:
    """The revenue portfolio of the chosen segments and period (None after a failed read, which
    is explained); stops the page when the selection holds no month."""
    portfolio = guarded(queries.revenue_portfolio, filters.segments, filters.period)
    if portfolio is not None and portfolio.empty:
        st.info("No months of data in this period and segment selection.")
        st.stop()
    return portfolio


def explain(failure: queries.QueryFailed) -> None:
    st.warning(failure.sentence, icon=":material/report:")
    with st.expander("Details"):
        st.code(failure.details, language=None, wrap_lines=True)


def table_with_download(
    frame: pd.DataFrame,
    file_name: str,
    *,
    key: str,
    column_config: dict[str, Any] | None = None,
    column_order: list[str] | None = None,
    height: int | str = "auto",
    download_role: str | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """A table and its CSV download. The table names each segment by its label ("Mid-market"),
    as the page's headings and legends do; the CSV keeps the ids (`mid_market`), the values the
    marts and the sidebar's links use."""
    shown = frame
    if "segment" in frame.columns and frame["segment"].map(lambda v: isinstance(v, str)).all():
        shown = frame.assign(segment=segment_labels(frame["segment"]))
    data_table(
        dash_missing_text(shown),
        hide_index=True,
        column_order=column_order,
        column_config=column_config,
        height=height,
    )
    download_csv(frame, file_name, key=key, role=download_role, context=context)


def data_table(data: Any, **options: Any) -> Any:
    """`st.dataframe` with a missing value shown as the dashboard's dash (`format.MISSING`) in
    every column, numbers and dates included, where Streamlit prints "None" (an account never held
    for a readout, a change with no month to compare); returns what st.dataframe returns (the
    selection, with `on_select`)."""
    return st.dataframe(data, placeholder=MISSING, **options)


def dash_missing_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns with a missing value shown as the dashboard's dash (`format.MISSING`), as
    `data_table` shows a missing number or date; numbers, dates and every other column stay as
    they are (filling them with text would break their conversion to Arrow)."""
    text = [
        column
        for column in frame.columns
        # object columns of strings, and pandas' string dtype (`str`, which a text column gets
        # after a `.str` method and which the table also prints as "None")
        if (frame[column].dtype == object or isinstance(frame[column].dtype, pd.StringDtype))
        and frame[column].isna().any()
        and frame[column].dropna().map(lambda value: isinstance(value, str)).all()
    ]
    return (
        frame.assign(**{column: frame[column].fillna(MISSING) for column in text})
        if text
        else frame
    )


def download_csv(
    frame: pd.DataFrame,
    file_name: str,
    *,
    key: str,
    label: str = "Download CSV",
    role: str | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    download_button(
        label,
        frame.to_csv(index=False).encode("utf-8"),
        file_name=file_name,
        mime="text/csv",
        key=key,
        rows=len(frame),
        role=role,
        context=context,
        icon=":material/download:",
    )


def download_button(
    label: str,
    data: Any,
    *,
    file_name: str,
    mime: str,
    key: str,
    role: str | None = None,
    rows: int | None = None,
    context: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    """Every download of the dashboard: left out (one line says which role it needs) for a
    reader without `role`, and recorded in the audit trail when clicked, with the sidebar's
    filters and the page's own choices (`context`) as they were when the file was offered."""
    if role is not None and not access.may(role):
        access.locked(role, f"“{label}”")
        return
    filters = current_filters()
    entry = audit.Download(
        page=st.session_state.get(audit.PAGE_KEY, ""),
        download=label,
        file_name=file_name,
        rows=rows,
        filters={
            "segments": list(filters.segments),
            "period": list(filters.period) if filters.period else None,
            **(context or {}),
        },
    )
    # A callback (not "ignore"): the click reruns the page, and the callback runs first, in
    # this reader's session, while the browser already saves the file.
    st.download_button(
        label,
        data,
        file_name=file_name,
        mime=mime,
        key=key,
        on_click=_record_download,
        args=(entry,),
        **options,
    )


def _record_download(entry: audit.Download) -> None:
    reader = access.reader()
    try:
        audit.record(entry, reader.email, reader.roles)
    except OSError as error:  # the file left; say that its record did not
        st.toast(f"This download could not be written to the audit trail: {error}", icon="⚠️")


# ---- header ----------------------------------------------------------------------------------


def freshness_header(now: datetime | None = None) -> None:
    """As-of time, last and next refresh; says when the last attempt failed or data is stale.

    Stops the page when no build was ever published: there is nothing else to show.
    """
    now = now or datetime.now(UTC)
    current = queries.warehouse()
    attempt = guarded(queries.last_refresh_attempt)
    as_of = guarded(queries.data_as_of) if current.exists else None
    history = guarded(queries.refresh_history) if current.exists else None
    published_at = history["finished_at"].iloc[0] if history is not None and len(history) else None
    published_at = as_utc(published_at)

    next_run = next_daily_run(REFRESH_SCHEDULE_CRON, now)
    with st.container(border=True):
        as_of_column, refresh_column, next_column = st.columns(3)
        _fact(as_of_column, "Data as of", timestamp(as_of), definition("data_as_of"))
        _fact(
            refresh_column,
            "Last refresh",
            _last_refresh_text(attempt, published_at, now),
            definition("last_refresh"),
        )
        _fact(
            next_column,
            "Next refresh",
            f"{timestamp(next_run)} · {ago(next_run, now)}",
            f"{definition('next_refresh')} Cron: `{REFRESH_SCHEDULE_CRON}`.",
        )

    if attempt is not None and attempt.failed:
        serving = (
            " The dashboard keeps serving the last good build, published "
            f"{timestamp(published_at)}."
            if current.exists
            else ""
        )
        st.error(
            f"The last refresh failed at {timestamp(attempt.finished_at)}: "
            f"{attempt.reason or 'no reason was recorded'}.{serving}",
            icon=":material/error:",
        )
    latest_refresh = max(
        (moment for moment in (published_at, attempt and attempt.finished_at) if moment),
        default=None,
    )
    if is_stale(as_of, latest_refresh):
        st.warning(
            f"The data is stale: its newest record is from {timestamp(as_of)}, "
            f"{ago(as_of, latest_refresh).removesuffix(' ago')} before the last refresh at "
            f"{timestamp(latest_refresh)}. A source may have stopped delivering.",
            icon=":material/schedule:",
        )
    if not current.exists:
        st.info(f"No published warehouse yet at {current.path}. Run `seatshift refresh`.")
        st.stop()


def _fact(column: Any, label: str, value: str, definition: str) -> None:
    column.caption(label, help=definition)
    column.markdown(f"**{value}**")


def _last_refresh_text(
    attempt: queries.RefreshAttempt | None, published_at: datetime | None, now: datetime
) -> str:
    if attempt is not None:
        status = ":red[failed]" if attempt.failed else ":green[published]"
        moment = attempt.finished_at
    elif published_at is not None:
        status, moment = ":green[published]", published_at
    else:
        return "none yet"
    return f"{status} · {timestamp(moment)} · {ago(moment, now)}"


# ---- sidebar filters -------------------------------------------------------------------------


def accept_ids_in_url(
    key: str, options: list, format_func: Callable[[Any], str], *, multi: bool = False
) -> bool:
    """A widget bound to the URL reads its labels there (`?segments=Mid-market`); a shared link
    naming the ids (`?segments=mid_market`, `?focus=enterprise`, `?period=2026-01-01`) works
    too: ids found in the URL seed the widget's state (and the URL gets their labels) before the
    widget is drawn. Unknown values are left for the widget to ignore.

    True when it seeded the state: the widget is then drawn without a default (`default_unless`),
    since Streamlit warns, with a stack in the server's log, about a widget given both."""
    if key not in st.query_params:
        return False
    values = st.query_params.get_all(key)
    by_id = {str(option): option for option in options}
    chosen = [by_id[value] for value in values if value in by_id]
    if not chosen:
        return False
    labels = [format_func(option) for option in chosen]
    if key == PERIOD_KEY:
        # The range slider takes the linked months as its default instead (LINKED_PERIOD_KEY):
        # seeded state would draw it without a default, and Streamlit then takes it for a
        # one-value slider (the next run read one month, not two, and failed). Its own URL
        # labels it reads itself; the ids it drops. One month is a range of one.
        st.session_state[LINKED_PERIOD_KEY] = (chosen[0], chosen[-1])
        return False
    st.session_state[key] = chosen if multi else chosen[0]
    st.query_params[key] = labels if len(labels) > 1 else labels[0]
    return True


def default_unless(seeded: bool, default: Any) -> Any:
    """A widget's default, or None when its state was just seeded (`accept_ids_in_url`)."""
    return None if seeded else default


def sidebar_filters() -> Filters:
    """Segment and period, for every page; a page reads them back with `current_filters()`."""
    exists = queries.warehouse().exists
    segment_options = quietly(queries.segments) if exists else None
    if not segment_options:
        segment_options = list(EXPORTS["accounts"].column("segment").allowed or ())
    month_options = [month.date() for month in (quietly(queries.months) if exists else None) or []]

    accept_ids_in_url(SEGMENT_KEY, list(segment_options), segment_label, multi=True)
    accept_ids_in_url(PERIOD_KEY, month_options, lambda month: month.strftime("%b %Y"), multi=True)
    whole = (month_options[0], month_options[-1]) if month_options else None
    linked = st.session_state.get(LINKED_PERIOD_KEY)
    default_period = linked if linked and set(linked) <= set(month_options) else whole
    with st.sidebar:
        st.header("Filters")
        chosen_segments = st.multiselect(
            "Segment",
            segment_options,
            key=SEGMENT_KEY,
            bind="query-params",
            placeholder="All segments",
            format_func=segment_label,
        )
        period = None
        if len(month_options) >= 2:
            # A new build can drop a month the reader had picked; start over rather than fail.
            stored = st.session_state.get(PERIOD_KEY)
            if stored is not None and not set(stored) <= set(month_options):
                del st.session_state[PERIOD_KEY]
            period = st.select_slider(
                "Period",
                options=month_options,
                value=default_period,
                key=PERIOD_KEY,
                bind="query-params",
                format_func=lambda month: month.strftime("%b %Y"),
            )
        elif month_options:
            st.caption(f"Period: {month_options[0]:%b %Y} (the only month of data)")

    filters = Filters(segments=tuple(chosen_segments), period=tuple(period) if period else None)
    st.session_state[FILTERS_KEY] = filters
    return filters


def period_narrowed(filters: Filters) -> str | None:
    """The sidebar's period as a reader says it ("May 2026 to Oct 2026"), when it leaves out
    months of the data (None when it covers them all): for the pages that apply it to some of
    their figures only, and say so."""
    if filters.period is None:
        return None
    months = [month.date() for month in quietly(queries.months) or []]
    first, last = (pd.Timestamp(month).date() for month in filters.period)
    if months and first <= months[0] and last >= months[-1]:
        return None
    return f"{first:%b %Y} to {last:%b %Y}"


def current_filters() -> Filters:
    return st.session_state.get(FILTERS_KEY, Filters(segments=(), period=None))


def segment_picker(segments: list[str], key: str) -> str:
    """A page's own segment choice (the Projection and Migration plan pages): every segment
    together or one; the sidebar's filter preselects its segment when it names exactly one."""
    filters = current_filters()
    options = [PORTFOLIO, *segments]
    default = filters.segments[0] if len(filters.segments) == 1 else PORTFOLIO
    return st.selectbox(
        "Segment",
        options,
        index=options.index(default),
        key=key,
        format_func=segment_label,  # the glossary's names, as the Filters' picker writes them
        help="This page's segment: one, or every segment together. The Filters' segment above "
        "preselects it when it names exactly one.",
    )


def quietly(load: Callable[..., T], *args: Any) -> T | None:
    """For reads whose failure another element already reports, or that are a convenience."""
    try:
        return load(*args)
    except queries.QueryFailed:
        return None


# ---- the trigger's threshold what-if (Overview) ----------------------------------------------

WHAT_IF_PREFIX = "whatif_"


@dataclass(frozen=True)
class TriggerThresholds:
    values: dict[str, float]  # every threshold the verdict reads, as the page judges with it
    changed: tuple[tuple[str, float], ...]  # those that differ from the build's settings


def trigger_thresholds() -> TriggerThresholds | None:
    """Sidebar controls for the thresholds the trigger's verdict reads, starting at the build's
    settings; returns the values in use (None after a failed read, which is explained). Fractions
    are entered in percent (30 = 30%), as people read them."""
    names = guarded(queries.trigger_threshold_names)
    settings = guarded(queries.settings_in_force)
    if names is None or settings is None:
        return None
    rows = settings.set_index("name")
    in_force = {name: float(rows.loc[name, "value"]) for name in names if name in rows.index}
    values = dict(in_force)
    with st.sidebar.expander("Trigger what-if", icon=":material/tune:"):
        st.caption(
            "Move a threshold to see which segments would cross; the page re-judges with the "
            "build's own trigger SQL. Percent, or percentage points for a change."
        )
        for name, value in in_force.items():
            key = WHAT_IF_PREFIX + name
            entered = st.number_input(
                _setting_label(name),
                value=round(value * 100, 4),
                step=1.0,
                format="%.1f",
                key=key,
                help=str(rows.loc[name, "description"]),
            )
            values[name] = round(entered / 100, 10)
        st.button("Back to the build's settings", on_click=_reset_what_if, args=(list(in_force),))
    changed = tuple(
        (name, values[name]) for name in in_force if abs(values[name] - in_force[name]) > 1e-12
    )
    return TriggerThresholds(values=values, changed=changed)


def _reset_what_if(names: list[str]) -> None:
    for name in names:
        st.session_state.pop(WHAT_IF_PREFIX + name, None)


def _setting_label(name: str) -> str:
    from dashboards.lib.decision import setting_label

    return setting_label(name) + " (%)"

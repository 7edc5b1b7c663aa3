"""Data health, for the operator: what loaded, what was quarantined and why, which expectations
failed, where the dbt docs and the GX Data Docs are served, and the audit trail of downloads.
Every reader sees the KPI row; the details below it, raw quarantined records included, need the
operator role. The router has already drawn the as-of time, the last and the next refresh above
this."""

import streamlit as st

from dashboards.lib import access, audit, charts, queries
from dashboards.lib import docs as docs_links
from dashboards.lib.format import MISSING, count, counted, pretty_json, timestamp
from dashboards.lib.kpis import Kpi, kpi_row
from dashboards.lib.layout import download_button, guarded, quietly, table_with_download

LATEST, ALL = "Latest refresh", "All refreshes"

latest_refresh_id = quietly(queries.latest_refresh_id)  # the header reports a failure
scope = st.segmented_control(
    "Show",
    [LATEST, ALL],
    default=LATEST,
    required=True,
    key="health_scope",
    label_visibility="collapsed",
)
refresh_id = latest_refresh_id if scope == LATEST else None
if scope == LATEST:
    st.caption(f"Refresh `{latest_refresh_id or MISSING}`, which published the build shown here.")
else:
    st.caption("Every refresh recorded in this warehouse.")

# ---- KPI row ---------------------------------------------------------------------------------
# A failed read leaves its metrics at "—"; the warning above the row says why.
loads = guarded(queries.load_totals, refresh_id)
expectations = guarded(queries.expectation_totals, refresh_id)
loads = {} if loads is None else loads
expectations = {} if expectations is None else expectations
kpi_row(
    {**loads, **expectations},
    [
        Kpi("files_loaded", "files_loaded"),
        Kpi("rows_loaded", "rows_loaded"),
        Kpi("rows_quarantined", "rows_quarantined"),
        Kpi("expectations_failed", "expectations_failed"),
    ],
)
if len(loads):
    st.caption(
        f"{counted(loads['files_skipped'], 'file')} skipped as already loaded, "
        f"{count(loads['files_rejected'])} rejected; "
        f"{count(loads['rows_read'])} rows read, {count(loads['rows_duplicate'])} duplicates."
        + (
            f" {count(expectations['expectations_run'])} expectations run, "
            f"{count(expectations['critical_failed'])} failed critical."
            if len(expectations)
            else ""
        )
    )

if not access.may(access.OPERATOR):
    access.locked(
        access.OPERATOR,
        "Everything below the KPI row (files, quarantined records, expectation results, the "
        "audit trail)",
    )
    st.stop()

# ---- files -----------------------------------------------------------------------------------
st.subheader("Files")
files_tab, history_tab = st.tabs(["Files", "Refresh history"])
with files_tab:
    files = guarded(queries.load_report, refresh_id)
    if files is not None and files.empty:
        st.info("No landing files were processed in this scope.")
    elif files is not None:
        table_with_download(
            files,
            "load_report.csv",
            key="download_load_report",
            column_order=[
                "status",
                "file_name",
                "export",
                "rows_read",
                "rows_loaded",
                "rows_duplicate",
                "rows_quarantined",
                "message",
                "loaded_at",
                "refresh_id",
                "content_sha256",
            ],
            column_config={
                "status": st.column_config.TextColumn("Status", pinned=True),
                "file_name": "File",
                "export": "Export",
                "message": "Message",
                "refresh_id": "Refresh",
                "loaded_at": st.column_config.DatetimeColumn(
                    "Loaded at", format="YYYY-MM-DD HH:mm"
                ),
                "rows_read": st.column_config.NumberColumn("Read", format="localized"),
                "rows_loaded": st.column_config.NumberColumn("Loaded", format="localized"),
                "rows_duplicate": st.column_config.NumberColumn("Duplicates", format="localized"),
                "rows_quarantined": st.column_config.NumberColumn(
                    "Quarantined", format="localized"
                ),
                "content_sha256": st.column_config.TextColumn("SHA-256", width="small"),
            },
        )
with history_tab:
    history = guarded(queries.refresh_history)
    if history is not None and history.empty:
        st.info("No refresh has been published yet.")
    elif history is not None:
        st.plotly_chart(charts.rows_by_refresh(history), key="chart_rows_by_refresh")
        table_with_download(
            history,
            "refresh_history.csv",
            key="download_refresh_history",
            column_config={
                "refresh_id": "Refresh",
                "started_at": st.column_config.DatetimeColumn("Started", format="YYYY-MM-DD HH:mm"),
                "finished_at": st.column_config.DatetimeColumn(
                    "Finished", format="YYYY-MM-DD HH:mm"
                ),
                "status": "Status",
                "data_as_of": st.column_config.DatetimeColumn(
                    "Data as of", format="YYYY-MM-DD HH:mm"
                ),
                "files_loaded": st.column_config.NumberColumn("Files", format="localized"),
                "rows_loaded": st.column_config.NumberColumn("Rows loaded", format="localized"),
                "rows_quarantined": st.column_config.NumberColumn(
                    "Quarantined", format="localized"
                ),
                "message": "Message",
            },
        )

# ---- quarantine ------------------------------------------------------------------------------
st.subheader("Quarantined rows by rule")
by_rule = guarded(queries.quarantine_by_rule, refresh_id)
if by_rule is not None and by_rule.empty:
    st.success("No rows were quarantined in this scope.", icon=":material/check_circle:")
elif by_rule is not None:
    chart_column, table_column = st.columns(2)
    chart_column.plotly_chart(charts.quarantine_by_rule(by_rule), key="chart_quarantine_by_rule")
    with table_column:
        table_with_download(
            by_rule,
            "quarantine_by_rule.csv",
            key="download_quarantine_by_rule",
            column_config={
                "export": "Export",
                "rule": "Rule",
                "rows_quarantined": st.column_config.NumberColumn("Rows", format="localized"),
                "files": st.column_config.NumberColumn("Files", format="localized"),
            },
        )
        # the file is written when asked for (rows counted above, not read here)
        download_button(
            "Download every quarantined row",
            lambda: queries.quarantined_rows_csv(refresh_id),
            file_name="quarantined_rows.csv",
            mime="text/csv",
            key="download_quarantined_rows",
            rows=int(by_rule["rows_quarantined"].sum()),
            icon=":material/download:",
        )
    with st.expander("Example raw records, as delivered"):
        examples = guarded(queries.quarantine_examples, refresh_id)
        for example in [] if examples is None else examples.itertuples(index=False):
            st.markdown(
                f"**{example.export}** · `{example.rule}` · {example.file_name}, "
                f"row {example.row_number}"
            )
            st.code(pretty_json(example.raw_record), language="json")

# ---- expectations ----------------------------------------------------------------------------
st.subheader("Expectation results")
results = guarded(queries.expectation_results, refresh_id)
if results is not None and results.empty:
    st.info("No expectations were run in this scope.")
elif results is not None:
    table_with_download(
        results,
        "expectation_results.csv",
        key="download_expectation_results",
        column_config={
            "outcome": st.column_config.TextColumn("Outcome", pinned=True),
            "export": "Export",
            "relation": "Relation",
            "expectation_type": "Expectation",
            "column_name": "Column",
            "unexpected_examples": "Examples of failing values",
            "details": "Details",
            "refresh_id": "Refresh",
            "success": None,
            "is_critical": None,
            "unexpected_rate": st.column_config.NumberColumn("Unexpected", format="percent"),
            "element_count": st.column_config.NumberColumn("Rows", format="localized"),
            "unexpected_count": st.column_config.NumberColumn("Failing rows", format="localized"),
            "validated_at": st.column_config.DatetimeColumn(
                "Validated at", format="YYYY-MM-DD HH:mm"
            ),
        },
    )

# ---- documentation ---------------------------------------------------------------------------
st.subheader(
    "Documentation",
    help="dbt's docs: the lineage from the raw exports to these pages, every model and column "
    "described, their tests. Great Expectations Data Docs: every expectation of each export's "
    "latest validation, with the failing values.",
)
docs_links.ensure_served()
docs = docs_links.links()
dbt_column, gx_column = st.columns(2)
dbt_column.link_button(
    "dbt docs: lineage, models and columns", docs.dbt, icon=":material/account_tree:"
)
gx_column.link_button("Great Expectations Data Docs", docs.data_docs, icon=":material/fact_check:")
dbt_state = (
    f"The dbt docs of the published build were written {timestamp(docs.dbt_generated_at)}"
    if docs.dbt_generated_at is not None
    else "No dbt docs yet: a refresh that builds the dbt models writes them when it publishes"
)
gx_state = "" if docs.has_data_docs else "; no Data Docs yet: a refresh's checks write them"
st.caption(
    f"Served by the dashboard itself at {docs.server} (`seatshift docs` serves the same pages on "
    f"their own: `{docs.start_command}`). {dbt_state}{gx_state}."
)

# ---- audit trail -----------------------------------------------------------------------------
st.subheader(
    "Audit trail",
    help="Every download from this dashboard: who, what, when and with which filters. Kept "
    "beside the warehouse, appended to, never touched by a refresh.",
)
trail = audit.read_trail()
if trail.empty:
    st.info("No download has been recorded yet.")
else:
    st.caption(
        f"{counted(len(trail), 'download')} recorded in `{audit.trail_path().name}`, newest first."
    )
    table_with_download(
        trail,
        "audit_trail.csv",
        key="download_audit_trail",
        column_config={
            "recorded_at": st.column_config.DatetimeColumn(
                "When (UTC)", format="YYYY-MM-DD HH:mm:ss"
            ),
            "email": "Who",
            "roles": "Roles",
            "page": "Page",
            "download": "What",
            "file_name": "File",
            "rows": st.column_config.NumberColumn("Rows", format="localized"),
            "filters": st.column_config.TextColumn("Filters", width="large"),
        },
    )

"""Shadow billing, for the pricing analyst: every account-month re-rated under each proposal of
the price book, side by side with what customers really paid; then a what-if that re-rates an
edited proposal in place. The router has already drawn the as-of time and the sidebar filters."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards.lib import access, caps, charts, choice, decision, pools, queries, shaping
from dashboards.lib.definitions import definition, segment_label, threshold
from dashboards.lib.format import count, money, percent
from dashboards.lib.kpis import Kpi, kpi_row
from dashboards.lib.layout import (
    MONTH_COLUMN,
    accept_ids_in_url,
    current_filters,
    data_table,
    default_unless,
    download_button,
    download_csv,
    explain,
    guarded,
    period_narrowed,
    quietly,
    table_with_download,
)
from orchestration.lib import price_book
from orchestration.lib.rating import DELTA_BIN_WIDTH

MODELS_KEY = "models"  # also the URL query parameter: the chosen models can be shared
EDITED_MODEL_KEY = "what_if_model"
KEPT_PREFIX = "_what_if_kept_"  # + a model: its edited book, kept across pages
CHOICE_MODEL_KEY = "choice_model"
CHOICE_ACCOUNTS_KEY = "choice_accounts"
SWITCH, STAY = "Would switch", "Would stay"
# The build's settings (rpt_settings): below the guardrail is good, above the red flag is bad; an
# account wins (loses) when it would pay more than the threshold less (more).
BILL_SHOCK_GOOD = threshold("guardrail_max_bill_shock_rate")
BILL_SHOCK_RED_FLAG = threshold("bill_shock_rate_red_flag")
WINNER_LOSER = threshold("winner_loser_threshold_pct")
# The trigger's range for the revenue change (its bill-shock limit is BILL_SHOCK_GOOD).
REVENUE_LOW = threshold("guardrail_min_revenue_delta_pct")
REVENUE_HIGH = threshold("guardrail_max_revenue_delta_pct")
# Beyond this revenue change (as a fraction) a what-if result is flagged as implausible.
PLAUSIBLE_CHANGE = threshold("what_if_plausible_change_pct") or 3.0

# One header and format per column, in every table of this page that shows it.
COLUMNS = {
    "name": "Model",
    "model": "Model",
    "account_id": "Account",
    "accounts": "Accounts",
    "shocked_months": "Months shocked",
    "revenue_delta_pct": st.column_config.NumberColumn(
        "Revenue Δ", format="percent", width="medium"
    ),
    "bill_shock_rate": st.column_config.NumberColumn("Bill shock", format="percent"),
    "winners_share": st.column_config.NumberColumn("Winners", format="percent"),
    "losers_share": st.column_config.NumberColumn("Losers", format="percent"),
    "delta_pct_p10": st.column_config.NumberColumn("Δ p10", format="percent"),
    "delta_pct_p50": st.column_config.NumberColumn("Δ p50", format="percent"),
    "delta_pct_p90": st.column_config.NumberColumn("Δ p90", format="percent"),
    "delta_pct_p99": st.column_config.NumberColumn("Δ p99", format="percent"),
    "actual_gross_margin": st.column_config.NumberColumn("Margin now", format="percent"),
    "shadow_gross_margin": st.column_config.NumberColumn("Margin", format="percent"),
    "invoice_variance": st.column_config.NumberColumn("Invoice variance", format="%.2f"),
    "actual_usd": st.column_config.NumberColumn("Actual billings", format="dollar"),
    "shadow_usd": st.column_config.NumberColumn("Shadow billings", format="dollar"),
    "delta_usd": st.column_config.NumberColumn("Δ", format="dollar"),
    "delta_pct": st.column_config.NumberColumn("Δ %", format="percent"),
    "cost_to_serve_usd": st.column_config.NumberColumn("Cost to serve", format="dollar"),
    "billed_accounts": st.column_config.NumberColumn("Accounts billed", format="localized"),
    "shocked_accounts": st.column_config.NumberColumn("Accounts shocked", format="localized"),
    "month": MONTH_COLUMN,
}


def _layout(figure: go.Figure, height: int = 320) -> go.Figure:
    charts.month_ticks(figure)
    figure.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 32, "b": 8},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        colorway=charts.OKABE_ITO,
    )
    return figure


def _shown(columns: list[str], **headers: str) -> dict:
    """A table's column order and configuration: COLUMNS' entries for `columns`, plus `headers`."""
    config = {column: COLUMNS[column] for column in columns if column in COLUMNS}
    return {"column_order": columns, "column_config": config | headers}


GUARDRAIL_KPIS = [
    Kpi("shadow_invoice", "revenue_delta_pct", "Revenue vs. actual", unit="fraction"),
    Kpi("gross_margin", "shadow_gross_margin", delta="actual_margin"),
    Kpi("shadow_bill_shock", "bill_shock_rate", "Shadow bill-shock rate"),
    Kpi("winners_losers", "winners_share", "Winners (pay less)", decimals=0),
    Kpi("winners_losers", "losers_share", "Losers (pay more)", decimals=0),
]


def _whole_history(revenue: pd.DataFrame | None) -> str:
    """The months the guardrails pool (every rated month), as the page says a span of months:
    "whole history (Nov 2024 to Oct 2026)"; without the months, "whole history"."""
    if revenue is None or revenue.empty:
        return "whole history"
    first, last = pd.Timestamp(revenue["month"].min()), pd.Timestamp(revenue["month"].max())
    return f"whole history ({first:%b %Y} to {last:%b %Y})"


def _guardrail_kpis(row: pd.Series) -> None:
    """The figures the guardrails judge for one row (a segment, or the pooled portfolio):
    revenue, margin and bill shock side by side, then who wins and who loses."""
    figures = {**row, "actual_margin": f"actual {percent(row['actual_gross_margin'])}"}
    kpi_row(figures, GUARDRAIL_KPIS)


def _segment_verdicts(
    model_rows: pd.DataFrame,
    title: str,
    segments_shown: list[str],
    scope_segment: str,
    history: str,
    choice_rows: pd.DataFrame | None = None,
    decided: pd.DataFrame | None = None,
) -> None:
    """A model's verdict, segment by segment: it passes only when every segment shown passes.

    The verdict is the migration trigger's, as the Overview gives it (`decided`: the proposal's
    rows of fct_migration_triggers at the as-of month, judged over the trailing window), so the
    two pages never disagree; the guardrails over the whole history follow, labelled as such
    (they decide nothing: a proposal may pass now and not over years it was not offered). Without
    `decided` (the current model, an edited proposal) the cards judge the whole history. The
    figures of the one chosen segment follow; with several, the pooled `all` row does, folded
    away as reference, because pooling hides a failing segment. A proposal's cards also say what
    offering it beside the seats would bring (`choice_rows`, its customer choice by segment).
    The figures say their window (`history`, the months the guardrails pool) right above them, so
    that none is taken for the verdict's."""
    judged = shaping.guardrails_of_segments(model_rows, segments_shown)
    now = decided.set_index("segment") if decided is not None and not decided.empty else None
    if now is not None:
        window = decision.window_text(decided)
        passes, headline = decision.segment_verdict(now, segments_shown, window)
    else:
        passes, headline = shaping.segment_verdict(judged, segments_shown)
        headline += " over the whole history"
    st.markdown(
        f"**{title}** · :{'green' if passes else 'red'}[{headline}]",
        help=definition("migration_trigger" if now is not None else "price_model_guardrails"),
    )
    by_segment = judged.set_index("segment")
    for column, shown in zip(st.columns(len(segments_shown)), segments_shown, strict=True):
        with column.container(border=True):
            if now is not None and shown in now.index:
                verdict = now.loc[shown]
                viable = bool(verdict["is_proposal_viable"])
                st.markdown(
                    f"**{segment_label(shown)}** · "
                    + (":green[passes]" if viable else ":red[fails]")
                    + f" ({window})"
                )
                st.caption(
                    decision.verdict_figures(verdict, BILL_SHOCK_GOOD, (REVENUE_LOW, REVENUE_HIGH))
                )
            if shown not in by_segment.index:
                st.markdown(f"**{segment_label(shown)}** · no billed months")
                continue
            row = by_segment.loc[shown]
            whole = "within the guardrails" if row["is_passing"] else "outside the guardrails"
            if now is not None and shown in now.index:
                st.caption(f"Over the whole history: {whole}")
            else:
                outcome = ":green[passes]" if row["is_passing"] else ":red[fails]"
                st.markdown(f"**{segment_label(shown)}** · {outcome} (whole history)")
            if not row["is_passing"]:
                st.caption(f"**{shaping.failure_reason(row)}**")
            st.caption(shaping.guardrail_figures(row))
            offered = choice.segment_row(choice_rows, shown) if choice_rows is not None else None
            if offered is not None:
                st.caption(choice.card_text(offered), help=definition("customer_choice"))
    verdict_window = f", not the verdict's {window}" if now is not None else ""
    if scope_segment != shaping.PORTFOLIO:
        row = shaping.segment_row(model_rows, scope_segment)
        if row is not None:
            st.caption(
                f"**{segment_label(scope_segment)}, {history}**: the figures below pool every "
                f"rated month{verdict_window}."
            )
            _guardrail_kpis(row)
        return
    pooled = shaping.segment_row(model_rows, shaping.PORTFOLIO)
    if pooled is not None:
        pooled_verdict = "passes" if pooled["is_passing"] else "fails"
        with st.expander(f"All segments pooled ({pooled_verdict}): for reference, not the verdict"):
            st.caption(
                f"**{segment_label(shaping.PORTFOLIO)}, {history}**: the figures below pool "
                f"every rated month{verdict_window}."
            )
            _guardrail_kpis(pooled)


filters = current_filters()
models = guarded(queries.price_models)
if models is None:
    st.stop()
if models.empty:
    st.info("The price book has no models; add rows to dbt_project/seeds/price_book/*.csv.")
    st.stop()
names = shaping.model_names(models)
MODEL_COLORS = charts.model_colors(names) | {"Actual": charts.ACTUAL}
proposals = shaping.proposal_ids(models)
current_model = shaping.current_model_ids(models)

models_seeded = accept_ids_in_url(
    MODELS_KEY, proposals, lambda model: names.get(model, model), multi=True
)
with st.sidebar:
    chosen = st.multiselect(
        "Price models",
        proposals,
        default=default_unless(models_seeded, proposals),
        key=MODELS_KEY,
        bind="query-params",
        persist_state="session",  # the chosen models persist across pages
        wrap=True,  # a proposal's whole name, not cut
        format_func=lambda model: names.get(model, model),
        help="Proposals to compare with the real invoices (the current per-seat model is shown "
        "for reference: it should reproduce them).",
    )
chosen_models = tuple(chosen) + tuple(current_model)
if not chosen:
    st.info("Pick one or more price models in the sidebar.")
    st.stop()

segment = filters.segments[0] if len(filters.segments) == 1 else shaping.PORTFOLIO
scope = segment_label(segment) if segment != shaping.PORTFOLIO else "all segments pooled"
guardrails = guarded(queries.price_model_guardrails, tuple(chosen))
segments_shown = (
    shaping.segments_judged(guardrails, filters.segments)
    if guardrails is not None
    else list(filters.segments)
)


# ---- what-if: edit a proposal; every figure of the page follows the edit ------------------------
edited_model = None
edited = None  # the re-rating under a valid edit: guardrails, accounts, monthly
if access.may(access.ANALYST):
    triggers = quietly(queries.migration_triggers)
    recommended = decision.recommended_proposal(triggers, segment) if triggers is not None else None
    kept_edits = {
        key.removeprefix(KEPT_PREFIX): value
        for key, value in st.session_state.items()
        if key.startswith(KEPT_PREFIX)
    }
    # a kept edit comes back selected; else the proposal the Overview recommends
    first = next((model for model in proposals if model in kept_edits), recommended)
    kept_notice = st.empty()  # above the what-if, which stays folded: the page shows the edit
    with st.expander("What-if: edit a proposal and re-rate the history"):
        st.caption(definition("what_if"))
        edited_model = st.selectbox(
            "Proposal to edit",
            proposals,
            index=proposals.index(first) if first in proposals else 0,
            format_func=lambda model: names.get(model, model),
            help="The proposal the Overview recommends comes selected.",
            key=EDITED_MODEL_KEY,
        )
        book = guarded(queries.price_book, edited_model)
        if book is not None:
            # as the CSVs hold them: text, an empty cell "not set" (never a "None" to read)
            components, tiers = (shaping.as_price_book_text(frame) for frame in book)
            st.caption(
                "Edit rates, allowances and tiers (an empty cell is not set; the columns are "
                "the price book's, see docs/price-book.md). Every edit is checked against the "
                "price-book format first; a valid one re-rates the history with the build's own "
                "rating SQL, and every figure below shows the edited proposal."
            )
            # An edit outlives a visit to another page: Streamlit drops an editor's state with
            # the page, so the edited book is kept (KEPT_PREFIX) and is the editors' data when
            # the page is drawn again; within a visit their data stays what it was at its start.
            editor_key = f"what_if_components_{edited_model}"
            base_key = f"_what_if_base_{edited_model}"
            if editor_key not in st.session_state:
                st.session_state[base_key] = kept_edits.get(edited_model)
            base = st.session_state.get(base_key)
            if base is not None:
                kept_notice.info(
                    f"Your edit of {names[edited_model]}, kept from your last visit to this "
                    "page: every figure below shows it. **Reset to the build's book**, in the "
                    "what-if, returns to the build's figures.",
                    icon=":material/edit:",
                )
            if st.button("Reset to the build's book", key=f"what_if_reset_{edited_model}"):
                for key in [key for key in st.session_state if edited_model in str(key)]:
                    if key.startswith(("what_if_", "_what_if_")):
                        del st.session_state[key]
                st.session_state.pop(KEPT_PREFIX + edited_model, None)
                st.rerun()
            edited_components = st.data_editor(
                components if base is None else base["components"],
                hide_index=True,
                num_rows="dynamic",
                disabled=["price_model_id"],
                key=editor_key,
            ).assign(price_model_id=edited_model)
            edited_tiers = st.data_editor(
                tiers if base is None else base["tiers"],
                hide_index=True,
                num_rows="dynamic",
                key=f"what_if_tiers_{edited_model}",
            ).assign(price_model_id=edited_model)
            # the model's own spend cap, on its whole bill (a component's is a cell above)
            shipped_cap = shaping.as_price_book_text(
                models.loc[models["price_model_id"] == edited_model, ["cap_amount", "cap_policy"]]
            ).iloc[0]
            cap_left, cap_right = st.columns([1, 1])
            cap_amount = cap_left.text_input(
                "Spend cap on the whole bill, per month (USD; empty: none)",
                value=shipped_cap["cap_amount"] if base is None else base["cap_amount"],
                key=f"what_if_cap_{edited_model}",
                help=definition("spend_cap"),
            ).strip()
            cap_policy = cap_right.segmented_control(
                "At the cap",
                ["hard", "soft"],
                default=(shipped_cap["cap_policy"] if base is None else base["cap_policy"])
                or "hard",
                format_func={
                    "hard": "Hard: the bill stops",
                    "soft": "Soft: an alert only",
                }.get,
                required=True,
                key=f"what_if_cap_policy_{edited_model}",
            )
            edited_model_caps = pd.DataFrame(
                [
                    {
                        "price_model_id": edited_model,
                        "cap_amount": cap_amount,
                        "cap_policy": cap_policy if cap_amount else "",
                    }
                ]
            )
            changed = not (
                shaping.same_book(components, edited_components)
                and shaping.same_book(tiers, edited_tiers)
                and cap_amount == shipped_cap["cap_amount"]
                and (not cap_amount or cap_policy == (shipped_cap["cap_policy"] or "hard"))
            )
            if changed:
                st.session_state[KEPT_PREFIX + edited_model] = {
                    "components": edited_components[components.columns],
                    "tiers": edited_tiers[tiers.columns],
                    "cap_amount": cap_amount,
                    "cap_policy": cap_policy,
                }
            else:
                st.session_state.pop(KEPT_PREFIX + edited_model, None)
            found = price_book.problems(edited_components, edited_tiers, edited_model_caps)
            if found:
                st.error(
                    "**Not re-rated: the edit breaks the price-book format.** Every figure "
                    "below is still the build's.\n\n"
                    + "\n".join(f"- {problem}" for problem in found),
                    icon=":material/error:",
                )
            elif changed:
                try:
                    edited = queries.what_if(
                        edited_components,
                        edited_tiers,
                        filters.segments,
                        filters.period,
                        model_caps=edited_model_caps,
                    )
                except queries.QueryFailed as failure:
                    explain(failure)
                if edited is not None:
                    # an edit is rated once per build: the page's reruns read it again
                    st.success(
                        f"Re-rated {shaping.accounts_rated(edited['accounts']):,} accounts in "
                        f"{edited.seconds:.2f} s"
                        + (" (this same edit, rated once for this build)" if edited.kept else "")
                        + f": every figure below shows {names[edited_model]} as edited.",
                        icon=":material/edit:",
                    )
                    implausible = shaping.implausible_segments(
                        edited["guardrails"], edited_model, PLAUSIBLE_CHANGE
                    )
                    if implausible:
                        st.warning(
                            "**Check the edit: the result is outside the plausible range** "
                            f"(revenue change beyond ±{percent(PLAUSIBLE_CHANGE, 0)}): "
                            + "; ".join(
                                f"{segment_label(name)} {change:+,.1%}"
                                for name, change in implausible
                            )
                            + ". A value typed into the wrong column (a price as a unit size) "
                            "does this.",
                            icon=":material/warning:",
                        )
            whole_book = guarded(queries.full_price_book)
            if whole_book is not None:
                all_models, all_components, all_tiers = whole_book
                archive = shaping.csv_archive(
                    {
                        "price_models.csv": shaping.with_model_cap(
                            all_models, edited_model, cap_amount, cap_policy
                        ),
                        "price_components.csv": shaping.replace_model_rows(
                            all_components, edited_model, edited_components
                        ),
                        "price_tiers.csv": shaping.replace_model_rows(
                            all_tiers, edited_model, edited_tiers
                        ),
                    }
                )
                download_button(
                    "Download the edited price book (CSVs)",
                    archive,
                    file_name="price_book.zip",
                    mime="application/zip",
                    key="download_price_book",
                    role=access.ANALYST,
                    context={"edited_price_model_id": edited_model},
                    icon=":material/download:",
                    disabled=bool(found),
                )
else:
    access.locked(access.ANALYST, "Editing a proposal and downloading the edited price book")

if edited is not None:
    names = names | {edited_model: f"{names[edited_model]} (edited)"}
    MODEL_COLORS = MODEL_COLORS | {
        names[edited_model]: MODEL_COLORS.get(
            names[edited_model].removesuffix(" (edited)"), charts.OKABE_ITO[0]
        )
    }
    if edited_model not in chosen:
        chosen = [*chosen, edited_model]
        chosen_models = tuple(chosen) + tuple(current_model)
    if guardrails is not None:
        guardrails = shaping.with_edited_guardrails(
            guardrails, edited["guardrails"], edited_model, names[edited_model]
        )

# ---- verdicts --------------------------------------------------------------------------------
choices = guarded(queries.customer_choice_by_segment, tuple(chosen))
# while a proposal is edited, its choice is the build's rule over the edited book (rpt_rating_sql)
edited_choice = (
    edited["choice"]
    if edited is not None and not edited.get("choice", pd.DataFrame()).empty
    else None
)
if edited_choice is not None:
    choices = choice.with_edited(
        choices, edited["choice_by_segment"], edited_model, names[edited_model]
    )
st.subheader("Verdict by segment", help=definition("price_model_guardrails"))
st.caption(
    "The verdict is the Overview's: the migration trigger's guardrails over the months before "
    "the as-of month. Below it, each proposal re-rated over every account-month of the history, "
    "for reference. A proposal passes only where it passes in every segment shown (the "
    "sidebar's segments, or all of them): pooled over the portfolio, a segment's failure can "
    "hide behind the others. The verdict's revenue change sets the proposal's charges against "
    "the MRR the accounts had in the same months; the whole-history figures below compare "
    "invoiced charges before tax, as billing does. An edited proposal is judged the same way, "
    "over its re-rated bills."
)
narrowed = period_narrowed(filters)
if narrowed:
    st.caption(
        f"The sidebar's period ({narrowed}) applies to the revenue and bill-shock charts and the "
        "winners and losers below, not to the verdicts, guardrails, customer choice, caps and "
        "pools, which keep the windows each names."
    )
all_verdicts = quietly(queries.migration_triggers)
decided_now = decision.latest_verdicts(all_verdicts) if all_verdicts is not None else None
# an edited proposal is judged by the trigger too, over its re-rated bills (rating.what_if);
# a build from before the trigger's SQL could do so judges it over the whole history
edited_trigger = edited.get("trigger") if edited is not None else None
edited_judged = edited_trigger is not None and not edited_trigger.empty
if edited_judged and decided_now is not None:
    decided_now = pd.concat(
        [
            decided_now[decided_now["price_model_id"] != edited_model],
            decision.latest_verdicts(edited_trigger),
        ],
        ignore_index=True,
    )
# the months the guardrails pool, which the figures under each verdict say
history = _whole_history(quietly(queries.shadow_revenue_monthly, chosen_models, (), None))
if guardrails is not None and not guardrails.empty:
    for model in (*chosen, *current_model):
        model_rows = shaping.guardrails_of_model(guardrails, model)
        if model_rows is None or model_rows.empty:
            continue
        reference = " (current model, for reference)" if model in current_model else ""
        _segment_verdicts(
            model_rows,
            f"{names[model]}{reference}",
            segments_shown,
            segment,
            history,
            choices[choices["price_model_id"] == model] if choices is not None else None,
            decided=(
                decided_now[decided_now["price_model_id"] == model]
                if decided_now is not None
                and not (edited is not None and model == edited_model and not edited_judged)
                else None
            ),
        )

    st.subheader("Guardrails by segment", help=definition("price_model_guardrails"))
    table_with_download(
        shaping.guardrails_table(guardrails, segments_shown),
        "price_model_guardrails.csv",
        key="download_guardrails",
        **_shown(
            [
                "name",
                "segment",
                "verdict",
                "revenue_delta_pct",
                "shadow_gross_margin",
                "actual_gross_margin",
                "bill_shock_rate",
                "winners_share",
                "losers_share",
                "delta_pct_p10",
                "delta_pct_p50",
                "delta_pct_p90",
                "delta_pct_p99",
                "invoice_variance",
                "actual_usd",
                "shadow_usd",
                "accounts",
            ],
            segment="Segment",
            verdict="Guardrails (whole history)",
        ),
    )

# ---- spend caps: what a cap gives up, blocks and avoids ----------------------------------------
st.subheader("Spend caps", help=definition("spend_cap"))
cap_rows = guarded(queries.spend_caps, tuple(chosen))
if cap_rows is not None and edited is not None:
    cap_rows = caps.with_edited(
        cap_rows, edited["caps"], edited_model, edited_components, edited_model_caps
    )
if cap_rows is not None and guardrails is not None:
    if cap_rows.empty:
        st.caption(
            "No proposal shown carries a spend cap. A cap goes on a component (its `cap_amount` "
            "and `cap_policy` cells) or on a model's whole bill; set one in the what-if above to "
            "see the revenue it gives up, the usage it blocks and the bill shock it avoids."
        )
    else:
        st.caption(
            "Each capped proposal re-rated with its caps: how many account-months the uncapped "
            "bill passed a cap, the revenue its hard caps gave up, the usage they blocked (service "
            "stops at a hard cap; counted per capped component, as a whole-bill cap stops every "
            "metric at once) and the bill shocks they avoided. A soft cap only alerts."
        )
        data_table(
            caps.table(cap_rows, guardrails, names, segments_shown),
            hide_index=True,
            column_config=caps.column_config(definition),
        )
        download_csv(
            caps.download_table(cap_rows, guardrails, names),
            "spend_caps.csv",
            key="download_spend_caps",
        )

# ---- prepaid pools: alerts, liability and breakage ---------------------------------------------
pool_rows = guarded(queries.prepaid_pools, tuple(chosen), segment)
if pool_rows is not None and not pool_rows.empty:
    st.subheader("Prepaid pools: alerts, liability and breakage", help=definition("pool_alerts"))
    st.caption(
        f"{scope[:1].upper()}{scope[1:]}. Each proposal with a prepaid pool, re-rated over the "
        "history: how many accounts its usage alerts would have reached each month (70%, 90% and "
        "100% of the month's available units), the unused balance carried into the next month "
        "(prepaid, not yet served: a liability) and the units that expired (breakage), both at "
        "the pool's price per unit."
        + (
            # only when the edited proposal has a pool: the figures below are the build's
            f" The figures are the build's: the edit of "
            f"{names[edited_model].removesuffix(' (edited)')} is not shown here."
            if edited is not None and edited_model in set(pool_rows["price_model_id"])
            else ""
        )
    )
    data_table(
        pools.summary(pool_rows, names), hide_index=True, column_config=pools.column_config()
    )
    several = pool_rows["price_model_id"].nunique() > 1  # one line style per proposal then
    left, right = st.columns(2)
    alerts = pools.alert_series(pool_rows, names)
    figure = px.line(
        alerts, x="month", y="accounts_reaching", color="level",
        line_dash="proposal" if several else None,
        category_orders={"level": pools.alert_level_names()},
        # warmer as the pool empties: 70% a heads-up, 100% the pool is spent
        color_discrete_sequence=[charts.OKABE_ITO[4], charts.OKABE_ITO[1], charts.BAD],
        labels={"month": "", "accounts_reaching": "Accounts", "level": "Alert"},
        title="Accounts reaching each alert",
    )  # fmt: skip
    left.plotly_chart(charts.legend_below(figure), width="stretch")
    money_rows = pools.money_series(pool_rows, names)
    figure = px.line(
        money_rows, x="month", y="usd", color="what",
        line_dash="proposal" if several else None,
        labels={"month": "", "usd": "USD", "what": ""},
        title=f"{pools.header('prepaid_liability')} and {pools.header('breakage').lower()}",
    )  # fmt: skip
    right.plotly_chart(charts.legend_below(figure), width="stretch")
    download_csv(pools.download_table(pool_rows, names), "prepaid_pools.csv", key="download_pools")

# ---- customer choice: each proposal offered beside the seats ----------------------------------
st.subheader("Forced switch or offered beside the seats", help=definition("customer_choice"))
if choices is not None and not choices.empty:
    inertia = threshold("choice_inertia_pct")
    st.caption(
        "Shadow billing moves every account to a proposal (the forced switch). Offered as an "
        "option beside the seats instead, each account paying now takes the proposal only when it "
        f"would have paid at least {percent(inertia, 0)} less under it; the rest stay, so the "
        "vendor gives up the adverse selection. MRR basis, summed over "
        f"{choice.window_text(choices)}. *(option)* marks a proposal the price book offers as an "
        "option (`offered_as`)."
        + (
            f" {names[edited_model]} is weighed as edited: the build's customer-choice rule over "
            "the edited book's shadow invoices; the other proposals are the build's."
            if edited_choice is not None
            else ""
        ),
        help=definition("adverse_selection"),
    )
    data_table(
        choice.table(choices[choices["segment"] == segment], by="proposal"),
        hide_index=True,
        column_config=choice.column_config(definition),
    )
    st.caption(
        f"{scope[:1].upper()}{scope[1:]}. Each proposal's figures per segment are in its "
        "verdict cards above; every proposal and segment is in the download."
    )
    download_csv(
        choice.download_table(choices),
        "customer_choice_by_segment.csv",
        key="download_choice",
    )
    offered_models = [model for model in chosen if model in set(choices["price_model_id"])]
    triggers_now = quietly(queries.migration_triggers)
    suggested = (
        decision.recommended_proposal(triggers_now, segment) if triggers_now is not None else None
    )
    left, right = st.columns([2, 1])
    choice_model = left.selectbox(
        "Accounts offered",
        offered_models,
        index=offered_models.index(suggested) if suggested in offered_models else 0,
        format_func=lambda model: names.get(model, model),
        key=CHOICE_MODEL_KEY,
        help="The proposal the Overview recommends comes selected.",
    )
    who = right.segmented_control(
        "Which accounts",
        [SWITCH, STAY],
        default=SWITCH,
        key=CHOICE_ACCOUNTS_KEY,
        required=True,
        help=definition("is_choosing_proposal"),
    )
    if edited_choice is not None and choice_model == edited_model:
        account_names = guarded(queries.account_names)
        accounts = (
            None
            if account_names is None
            else choice.edited_accounts(
                edited_choice, choice_model, tuple(filters.segments), who != STAY, account_names
            )
        )
    else:
        accounts = guarded(
            queries.choice_accounts, choice_model, tuple(filters.segments), who != STAY
        )
    if accounts is not None:
        model_name = names.get(choice_model, choice_model)
        saved = accounts["saving_usd"].astype("float64").sum()
        if who == STAY:
            sentence = (
                f"{count(len(accounts))} accounts would stay on the seats if offered {model_name}; "
                f"moved to it by force, they would together have paid {money(-saved)} more over "
                "the window (one that would save less than the inertia threshold counts with its "
                "small saving): that sum is the adverse selection."
            )
        else:
            sentence = (
                f"{count(len(accounts))} accounts would switch to {model_name}, saving "
                f"{money(saved)} together over the window, the largest saving first."
            )
        st.caption(sentence, help=definition("customer_choice"))
        table_with_download(
            choice.accounts_table(accounts),
            f"customer_choice_{choice_model}_{'stay' if who == STAY else 'switch'}.csv",
            key="download_choice_accounts",
            download_role=access.FINANCE,  # what named accounts pay and would pay: account-level
            context={"price_model_id": choice_model, "accounts": who},
            column_config=choice.accounts_column_config(definition),
        )

# ---- revenue ---------------------------------------------------------------------------------
if narrowed:
    st.caption(
        f"From here down, the sidebar's period: {narrowed}. The verdicts, guardrails, customer "
        "choice, caps and pools above keep the windows each names."
    )
revenue = guarded(queries.shadow_revenue_monthly, chosen_models, filters.segments, filters.period)
shock = guarded(queries.shadow_bill_shock_monthly, tuple(chosen), filters.segments, filters.period)
if edited is not None:
    revenue, shock = shaping.with_edited_months(
        revenue, shock, edited["monthly"], edited_model, filters.segments, filters.period
    )
left, right = st.columns(2)
with left:
    st.subheader("Revenue against current", help=definition("shadow_invoice"))
    if revenue is not None and not revenue.empty:
        lines = shaping.revenue_lines(revenue, names)
        figure = px.line(
            lines, x="month", y="usd", color="model", markers=True, color_discrete_map=MODEL_COLORS
        )
        figure.update_yaxes(title="USD per month", tickprefix="$")
        figure.update_xaxes(title=None)
        st.plotly_chart(_layout(figure), width="stretch")
        table_with_download(
            shaping.with_model_names(revenue, names, unnamed="Actual invoices"),
            "shadow_revenue.csv",
            key="download_revenue",
            **_shown(["month", "model", "actual_usd", "shadow_usd", "cost_to_serve_usd"]),
        )
with right:
    st.subheader("Bill-shock rate", help=definition("shadow_bill_shock"))
    if shock is not None and not shock.empty:
        shock = shaping.with_model_names(shock, names, unnamed="Actual invoices")
        figure = px.line(
            shock,
            x="month",
            y="bill_shock_rate",
            color="model",
            markers=True,
            color_discrete_map=MODEL_COLORS,
        )
        figure.update_yaxes(title="Accounts shocked / billed", tickformat=".0%", rangemode="tozero")
        figure.update_xaxes(title=None)
        charts.add_threshold(figure, BILL_SHOCK_GOOD, f"{percent(BILL_SHOCK_GOOD, 0)} good")
        charts.add_threshold(
            figure, BILL_SHOCK_RED_FLAG, f"{percent(BILL_SHOCK_RED_FLAG, 0)} red flag"
        )
        st.plotly_chart(_layout(figure), width="stretch")
        table_with_download(
            shock,
            "shadow_bill_shock.csv",
            key="download_shock",
            **_shown(["month", "model", "billed_accounts", "shocked_accounts", "bill_shock_rate"]),
        )

# ---- winners and losers ----------------------------------------------------------------------
deltas = guarded(queries.shadow_account_deltas, tuple(chosen), filters.segments, filters.period)
if edited is not None and deltas is not None:
    deltas = shaping.replace_model_rows(deltas, edited_model, edited["accounts"])
st.subheader("Winners and losers", help=definition("winners_losers"))
if deltas is not None and not deltas.empty:
    bins = shaping.account_delta_bins(deltas, names)
    figure = px.bar(
        bins,
        x="delta_mid",
        y="accounts",
        color="model",
        barmode="overlay",
        opacity=0.6,
        color_discrete_map=MODEL_COLORS,
    )
    figure.update_traces(width=DELTA_BIN_WIDTH)
    figure.update_xaxes(
        title="Change in what the account pays (clipped at -100% and +200%)", tickformat=".0%"
    )
    figure.update_yaxes(title="Accounts")
    if WINNER_LOSER is not None:
        charts.add_threshold(figure, -WINNER_LOSER, f"{percent(WINNER_LOSER, 0)} less", axis="x")
        charts.add_threshold(figure, WINNER_LOSER, f"{percent(WINNER_LOSER, 0)} more", axis="x")
    st.plotly_chart(_layout(figure), width="stretch")

    st.subheader("Accounts most affected")
    table_with_download(
        shaping.accounts_most_affected(deltas, names),
        "accounts_most_affected.csv",
        key="download_accounts",
        download_role=access.FINANCE,  # what named accounts would pay: account-level
        context={"price_model_ids": list(chosen)},
        **_shown(
            [
                "model",
                "account_id",
                "segment",
                "actual_usd",
                "shadow_usd",
                "delta_usd",
                "delta_pct",
                "shocked_months",
            ],
            segment="Segment",
        ),
    )

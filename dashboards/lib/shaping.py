"""Pure reshaping of query results for the pages: latest-month rows, long frames for charts,
lookups and labels. Frames in, frames (or plain values) out; no Streamlit, no SQL."""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from dashboards.lib.definitions import segment_label, segment_labels
from dashboards.lib.format import counted, percent, percent_against, text
from orchestration.lib import rating

# ---- months and segments ---------------------------------------------------------------------


def latest_month(frame: pd.DataFrame) -> pd.Timestamp:
    """The newest `month` of a monthly frame."""
    return frame["month"].max()


def rows_of_month(frame: pd.DataFrame, month: pd.Timestamp) -> pd.DataFrame:
    return frame[frame["month"] == month]


def latest_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a monthly frame's newest month."""
    return rows_of_month(frame, latest_month(frame))


def months_newest_first(frame: pd.DataFrame) -> list[pd.Timestamp]:
    return sorted(frame["month"].unique(), reverse=True)


def segments_in_order(frame: pd.DataFrame) -> list[str]:
    """The frame's segments, in order of first appearance."""
    return list(frame["segment"].unique())


def month_segment_row(frame: pd.DataFrame, month: pd.Timestamp, segment: str) -> pd.Series:
    """The one row of `month` and `segment`."""
    return frame[(frame["month"] == month) & (frame["segment"] == segment)].iloc[0]


def segment_row(frame: pd.DataFrame | None, segment: str) -> pd.Series | None:
    """The row of `segment`, or None when the frame is missing or has no such row."""
    if frame is None or segment not in set(frame["segment"]):
        return None
    return frame.set_index("segment").loc[segment]


# ---- seat health -----------------------------------------------------------------------------


def latest_kpis(portfolio: pd.DataFrame, nrr: pd.DataFrame | None) -> pd.DataFrame:
    """The portfolio's newest month, one row per segment (the index), with that month's `nrr`
    and `grr` beside it (missing when the NRR read failed or has no row for the segment)."""
    latest = latest_rows(portfolio)
    if nrr is None:
        retention = pd.DataFrame({"segment": pd.Series(dtype=object), "nrr": [], "grr": []})
    else:
        retention = rows_of_month(nrr, latest_month(portfolio))[["segment", "nrr", "grr"]]
    return latest.merge(retention, on="segment", how="left").set_index("segment")


def utilization_bands_long(portfolio: pd.DataFrame, bands: list[str]) -> pd.DataFrame:
    """Accounts per utilization band, long: month, segment, band, accounts."""
    long = portfolio.melt(
        id_vars=["month", "segment"],
        value_vars=[f"{band}_accounts" for band in bands],
        var_name="band",
        value_name="accounts",
    )
    long["band"] = long["band"].str.removesuffix("_accounts")
    return long


def retention_long(nrr: pd.DataFrame) -> pd.DataFrame:
    """NRR and GRR of the months that have a base, long: month, segment, measure, value."""
    long = nrr.dropna(subset=["nrr"]).melt(
        id_vars=["month", "segment"], value_vars=["nrr", "grr"], var_name="measure"
    )
    long["measure"] = long["measure"].str.upper()
    return long


def cohort_grid(cohorts: pd.DataFrame, measure: str) -> pd.DataFrame:
    """One row per cohort month, one column per month since start, `measure` in the cells."""
    return cohorts.pivot(index="cohort_month", columns="months_since_start", values=measure)


def per_account_long(portfolio: pd.DataFrame) -> pd.DataFrame:
    """ARPA and ARPU, long: month, segment, measure (ARPA / ARPU), value."""
    long = portfolio.melt(
        id_vars=["month", "segment"], value_vars=["arpa_usd", "arpu_usd"], var_name="measure"
    )
    long["measure"] = long["measure"].map({"arpa_usd": "ARPA", "arpu_usd": "ARPU"})
    return long


# ---- value shift -----------------------------------------------------------------------------


def with_power_user_marker(accounts: pd.DataFrame) -> pd.DataFrame:
    """The accounts with a `marker` column: "power user" or "other"."""
    return accounts.assign(
        marker=accounts["is_power_user"].map({True: "power user", False: "other"})
    )


def power_user_count(accounts: pd.DataFrame) -> int:
    return int(accounts["is_power_user"].sum())


ACTOR_LABELS = {"agent": "Agents", "human": "Humans"}


def with_actor_labels(mix: pd.DataFrame) -> pd.DataFrame:
    """The usage mix with an `actor` column for legends and facets: "Agents" or "Humans"."""
    return mix.assign(actor=mix["actor_type"].map(ACTOR_LABELS).fillna(mix["actor_type"]))


def top_of_each_actor(mix: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """In the mix's newest month, the `dimension` value (feature or tier) that takes the largest
    share of each actor type's tasks: actor_type, actor, `dimension`, share_of_actor_tasks."""
    latest = with_actor_labels(latest_rows(mix)).dropna(subset=["share_of_actor_tasks"])
    ranked = latest.sort_values(["actor_type", "share_of_actor_tasks"], ascending=[True, False])
    return ranked.groupby("actor_type", as_index=False).first()[
        ["actor_type", "actor", dimension, "share_of_actor_tasks"]
    ]


def seats_against_usage_change(series: pd.DataFrame) -> pd.DataFrame:
    """Per segment, billable seats and tasks per seat in the first and the last month of the
    series, with their relative change (null when the first value is 0 or missing)."""
    ordered = series.sort_values("month")
    first = ordered.groupby("segment", sort=False).first()
    last = ordered.groupby("segment", sort=False).last()
    change = pd.DataFrame(
        {
            "first_month": first["month"],
            "last_month": last["month"],
            "first_seats": first["billable_seats"],
            "last_seats": last["billable_seats"],
            "first_tasks_per_seat": first["tasks_per_seat"],
            "last_tasks_per_seat": last["tasks_per_seat"],
        }
    )
    for measure in ("seats", "tasks_per_seat"):
        base = change[f"first_{measure}"].astype(float)
        change[f"{measure}_change"] = (
            change[f"last_{measure}"].astype(float) / base.where(base != 0)
        ) - 1
    return change.reset_index()


# ---- shadow billing --------------------------------------------------------------------------


def model_names(models: pd.DataFrame) -> dict[str, str]:
    return dict(zip(models["price_model_id"], models["name"], strict=True))


def proposal_ids(models: pd.DataFrame) -> list[str]:
    return models.loc[~models["is_current_model"], "price_model_id"].tolist()


def current_model_ids(models: pd.DataFrame) -> list[str]:
    return models.loc[models["is_current_model"], "price_model_id"].tolist()


def guardrail_verdict(row: pd.Series) -> str:
    """Pass, or fail with the figures that broke the guardrails and the limits they broke."""
    reasons = []
    if pd.notna(row["bill_shock_rate"]) and row["bill_shock_rate"] > row["max_bill_shock_rate"]:
        reasons.append(
            f"bill-shock rate {percent_against(row['bill_shock_rate'], row['max_bill_shock_rate'])}"
            " is above "
            f"{percent(row['max_bill_shock_rate'], 0)}"
        )
    delta = row["revenue_delta_pct"]
    low, high = row["min_revenue_delta_pct"], row["max_revenue_delta_pct"]
    if pd.isna(delta) or delta < low or delta > high:
        reasons.append(
            f"revenue {percent_against(delta, low, high)} is outside {percent(low, 0)} .. "
            f"{percent(high, 0)}"
        )
    return "passes" if row["is_passing"] else "fails: " + "; ".join(reasons or ["see the table"])


def with_verdicts(guardrails: pd.DataFrame) -> pd.DataFrame:
    """The guardrails with a `verdict` column (see `guardrail_verdict`)."""
    return guardrails.assign(verdict=guardrails.apply(guardrail_verdict, axis=1))


PORTFOLIO = "all"  # the guardrails' pooled row: shown for reference, never the verdict
SEGMENT_ORDER = {"smb": 0, "mid_market": 1, "enterprise": 2}


def segments_judged(guardrails: pd.DataFrame, chosen: tuple[str, ...]) -> list[str]:
    """The segments a verdict covers: the sidebar's choice, or every segment of the guardrails
    (never the pooled `all`) when none is chosen; smallest customers first."""
    segments = chosen or tuple(guardrails["segment"].unique())
    judged = [segment for segment in segments if segment != PORTFOLIO]
    return sorted(
        judged, key=lambda segment: (SEGMENT_ORDER.get(segment, len(SEGMENT_ORDER)), segment)
    )


def guardrails_of_segments(guardrails: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    """The guardrail rows of `segments`, in that order, with their verdicts."""
    rows = guardrails[guardrails["segment"].isin(segments)]
    order = {segment: position for position, segment in enumerate(segments)}
    rows = rows.sort_values("segment", key=lambda column: column.map(order), kind="stable")
    return with_verdicts(rows)


def guardrails_table(guardrails: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    """The guardrail rows of `segments` and the pooled `all` (labelled as such), with verdicts,
    the segment as a reader says it (its glossary label: "Mid-market", "All segments")."""
    table = with_verdicts(guardrails[guardrails["segment"].isin([*segments, PORTFOLIO])])
    return table.assign(segment=segment_labels(table["segment"]))


def verdict_headline(
    passing: list[str],
    failing: list[str],
    missing: list[str],
    *,
    judged_by: str = "",
    missing_as: str = "no billed months in",
) -> tuple[bool, str]:
    """A proposal's verdict over several segments, as one headline: it passes only when it passes
    in every one (a pooled pass can hide a segment that fails), and a segment without a verdict
    (`missing`) is said and is no pass. Returns (passes everywhere, headline). The one wording of
    the guardrails' whole-history verdict (segment_verdict) and the trigger's
    (decision.segment_verdict)."""

    def named(segments: list[str]) -> str:
        return ", ".join(map(segment_label, segments))

    if not failing and not missing:
        return True, f"passes{judged_by} in {named(passing)}"
    parts = []
    if failing:
        parts.append(f"fails{judged_by} in {named(failing)}")
    if passing:
        parts.append(f"passes in {named(passing)}")
    if missing:
        parts.append(f"{missing_as} {named(missing)}")
    return False, "; ".join(parts)


def segment_verdict(rows: pd.DataFrame, segments: list[str]) -> tuple[bool, str]:
    """One model's verdict by its guardrails over `segments` (rows of guardrails_of_segments),
    as verdict_headline says it."""
    present = set(rows["segment"])
    return verdict_headline(
        [row.segment for row in rows.itertuples() if row.is_passing],
        [row.segment for row in rows.itertuples() if not row.is_passing],
        [segment for segment in segments if segment not in present],
        judged_by=" the guardrails",
    )


def guardrail_figures(row: pd.Series) -> str:
    """The figures the guardrails judge, each beside its limit and on the same side of it as it
    is (0.049741 beside 5%: 4.97%, never 5.0%), and the margin, in one line."""
    low, high = row["min_revenue_delta_pct"], row["max_revenue_delta_pct"]
    limit = row["max_bill_shock_rate"]
    return (
        f"revenue {signed_percent_against(row['revenue_delta_pct'], low, high)} (range "
        f"{signed_percent(low, 0)} .. {signed_percent(high, 0)}) · bill shock "
        f"{percent_against(row['bill_shock_rate'], limit)} (limit {percent(limit, 0)}) · "
        f"margin {percent(row['shadow_gross_margin'], 0)} "
        f"(now {percent(row['actual_gross_margin'], 0)})"
    )


def failure_reason(row: pd.Series) -> str:
    """Why the row fails, as the mart says it (fct_price_model_guardrails.failure_reason),
    capitalised; the empty string when it passes."""
    if row["is_passing"]:
        return ""
    reason = text(row["failure_reason"]) if pd.notna(row["failure_reason"]) else "fails"
    return reason[:1].upper() + reason[1:]


def signed_percent(fraction: float | None, decimals: int = 1) -> str:
    """A change with its sign: +72.6%, -5.0%."""
    shown = percent(fraction, decimals)
    return shown if pd.isna(fraction) or fraction < 0 else f"+{shown}"


def signed_percent_against(fraction: float | None, *limits: float | None) -> str:
    """A change with its sign, on the same side of each limit as it is (+15.02%, not +15.0%
    beside a +15% limit): format.percent_against, signed."""
    shown = percent_against(fraction, *limits)
    return shown if pd.isna(fraction) or fraction < 0 else f"+{shown}"


def guardrails_of_segment(guardrails: pd.DataFrame, segment: str) -> pd.DataFrame:
    """The guardrails of one segment (or `all`), indexed by price model."""
    return guardrails[guardrails["segment"] == segment].set_index("price_model_id")


def guardrails_of_model(guardrails: pd.DataFrame | None, model: str) -> pd.DataFrame | None:
    if guardrails is None:
        return None
    return guardrails[guardrails["price_model_id"] == model]


def revenue_lines(revenue: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """One line per model plus `Actual` (the invoices, the same for every model): month, usd,
    model."""
    actual = revenue.groupby("month", as_index=False)["actual_usd"].max().assign(model="Actual")
    shadow = revenue.assign(model=revenue["price_model_id"].map(names))
    return pd.concat(
        [
            actual.rename(columns={"actual_usd": "usd"}),
            shadow.rename(columns={"shadow_usd": "usd"})[["month", "usd", "model"]],
        ]
    )


def with_model_names(frame: pd.DataFrame, names: dict[str, str], unnamed: str) -> pd.DataFrame:
    """The frame with a `model` column: the price model's name, `unnamed` when it has none."""
    return frame.assign(model=frame["price_model_id"].map(names).fillna(unnamed))


def account_delta_bins(deltas: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The winners-and-losers histogram from rating.account_deltas_sql's rows: accounts per bin
    of relative change and model, named, with the bin's middle (`delta_mid`, -100% .. +200%);
    accounts without a relative change (nothing paid) are left out."""
    bins = deltas[(deltas["kind"] == "bin") & deltas["bin"].notna()]
    return pd.DataFrame(
        {
            "model": bins["price_model_id"].map(names),
            "delta_mid": rating.DELTA_BIN_FROM
            + (bins["bin"].astype(float) + 0.5) * rating.DELTA_BIN_WIDTH,
            "accounts": bins["accounts"].astype(int),
        }
    ).reset_index(drop=True)


def accounts_rated(deltas: pd.DataFrame) -> int:
    """How many account x model totals rating.account_deltas_sql's rows count."""
    return int(deltas.loc[deltas["kind"] == "bin", "accounts"].sum())


def accounts_most_affected(
    deltas: pd.DataFrame, names: dict[str, str], count: int = rating.TOP_ACCOUNTS
) -> pd.DataFrame:
    """The `count` accounts that moved most in dollars, across the models of
    rating.account_deltas_sql's rows (each model's own top accounts), named by model."""
    top = deltas[deltas["kind"] == "top"].reset_index(drop=True)
    order = top["delta_usd"].astype(float).abs().sort_values(ascending=False, kind="stable")
    return (
        top.loc[order.index[:count]]
        .assign(model=lambda frame: frame["price_model_id"].map(names))
        .reset_index(drop=True)
    )


def replace_model_rows(book: pd.DataFrame, model: str, edited: pd.DataFrame) -> pd.DataFrame:
    """A price-book table with `model`'s rows replaced by `edited`."""
    return pd.concat([book[book["price_model_id"] != model], edited])


def with_model_cap(
    models: pd.DataFrame, model: str, cap_amount: str, cap_policy: str | None
) -> pd.DataFrame:
    """price_models.csv with `model`'s own spend cap as edited (an empty amount: no cap)."""
    edited = models.copy().astype({"cap_amount": object, "cap_policy": object})
    chosen = edited["price_model_id"] == model
    edited.loc[chosen, "cap_amount"] = cap_amount or None
    edited.loc[chosen, "cap_policy"] = (cap_policy or "hard") if cap_amount else None
    return edited


def csv_archive(tables: dict[str, pd.DataFrame]) -> bytes:
    """A zip of one CSV per table, named by its key."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, frame in tables.items():
            bundle.writestr(name, frame.to_csv(index=False))
    return archive.getvalue()


# ---- billing integrity -----------------------------------------------------------------------


def mismatch_reasons(mismatches: pd.DataFrame) -> list[str]:
    return sorted(mismatches["mismatch_reason"].unique())


def mismatches_of(mismatches: pd.DataFrame, reasons: list[str]) -> pd.DataFrame:
    return mismatches[mismatches["mismatch_reason"].isin(reasons)]


def mismatch_counts(mismatches: pd.DataFrame) -> pd.Series:
    """Lines per reason, most first."""
    return mismatches["mismatch_reason"].value_counts()


def account_labels(accounts: pd.DataFrame) -> dict[str, str]:
    """Account id -> "id · name", with " · has mismatches" when any line of it mismatches."""
    flagged = set(accounts.loc[accounts["mismatched_lines"] > 0, "account_id"])
    return {
        account: f"{account} · {text(name)}" + (" · has mismatches" if account in flagged else "")
        for account, name in zip(accounts["account_id"], accounts["account_name"], strict=True)
    }


def invoice_labels(invoices: pd.DataFrame) -> dict[str, str]:
    """Invoice id -> "id · period start · status", with its mismatch count when it has any."""
    return {
        row.invoice_id: f"{row.invoice_id} · {row.period_start:%d %b %Y} · {row.invoice_status}"
        + (
            f" · {counted(row.mismatched_lines, 'mismatch', 'mismatches')}"
            if row.mismatched_lines
            else ""
        )
        for row in invoices.itertuples()
    }


# ---- the what-if's edited proposal in place of the build's --------------------------------------


def as_price_book_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A price-book table as the CSV's text: numbers without float noise, "" for an empty cell."""

    def text(value: object) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if isinstance(value, float) and value == int(value):
            return str(int(value))
        return str(value)

    return frame.astype(object).apply(lambda column: column.map(text))


def same_book(shipped: pd.DataFrame, edited: pd.DataFrame) -> bool:
    """Whether an edited price-book table still says what the build's does (cells compared as
    the CSV text they stand for: an empty cell is "not set")."""
    columns = [column for column in shipped.columns if column != "price_model_id"]
    if len(shipped) != len(edited) or not set(columns) <= set(edited.columns):
        return False

    def text(frame: pd.DataFrame) -> list[tuple]:
        cells = frame[columns].astype(object).where(frame[columns].notna(), "")
        return [tuple(str(value) for value in row) for row in cells.itertuples(index=False)]

    return text(shipped.reset_index(drop=True)) == text(edited.reset_index(drop=True))


def implausible_segments(
    guardrails: pd.DataFrame, model: str, plausible: float
) -> list[tuple[str, float]]:
    """The segments (and `all`) where the model's revenue change lies beyond +-plausible."""
    rows = guardrails[guardrails["price_model_id"] == model]
    return [
        (str(segment), float(change))
        for segment, change in zip(rows["segment"], rows["revenue_delta_pct"], strict=True)
        if pd.notna(change) and abs(float(change)) > plausible
    ]


def with_edited_guardrails(
    guardrails: pd.DataFrame, edited: pd.DataFrame, model: str, name: str
) -> pd.DataFrame:
    """The page's guardrails with the model's rows replaced by the re-rated ones, named `name`."""
    rows = edited[edited["price_model_id"] == model].assign(name=name)
    kept = guardrails[guardrails["price_model_id"] != model]
    return pd.concat([kept, rows.reindex(columns=guardrails.columns)], ignore_index=True)


def with_edited_months(
    revenue: pd.DataFrame | None,
    shock: pd.DataFrame | None,
    monthly: pd.DataFrame,
    model: str,
    segments: tuple[str, ...],
    period: tuple | None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The revenue and bill-shock series with the model's months taken from the re-rating, over
    the chosen segments and period (as queries.shadow_revenue_monthly and
    shadow_bill_shock_monthly shape them)."""
    rows = monthly[monthly["price_model_id"] == model]
    if segments:
        rows = rows[rows["segment"].isin(segments)]
    if period:
        months = pd.to_datetime(rows["month"]).dt.date
        rows = rows[(months >= period[0]) & (months <= period[1])]
    by_month = rows.groupby(["month", "price_model_id"], as_index=False)[
        [
            "actual_usd",
            "shadow_usd",
            "cost_to_serve_usd",
            "billed_accounts",
            "shocked_accounts",
            "judged_accounts",
        ]
    ].sum()
    if revenue is not None:
        revenue = pd.concat(
            [
                revenue[revenue["price_model_id"] != model],
                by_month[
                    ["month", "price_model_id", "actual_usd", "shadow_usd", "cost_to_serve_usd"]
                ],
            ],
            ignore_index=True,
        ).sort_values(["month", "price_model_id"])
    if shock is not None:
        rates = by_month.assign(
            bill_shock_rate=[
                shocked / billed if judged > 0 and billed > 0 else None
                for shocked, billed, judged in zip(
                    by_month["shocked_accounts"],
                    by_month["billed_accounts"],
                    by_month["judged_accounts"],
                    strict=True,
                )
            ]
        )
        shock = pd.concat(
            [
                shock[shock["price_model_id"] != model],
                rates[
                    [
                        "month",
                        "price_model_id",
                        "billed_accounts",
                        "shocked_accounts",
                        "bill_shock_rate",
                    ]
                ],
            ],
            ignore_index=True,
        ).sort_values(["month", "price_model_id"])
    return revenue, shock

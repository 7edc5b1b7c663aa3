"""After the switch, shaped for the Pilot page, the Overview and the decision pack: the pilot
against its control group (fct_pilot_readout and its months), how alike the arms were before
(fct_pilot_match_quality), the rollback triggers (fct_pilot_rollback_triggers) and the prediction
made at the switch beside what happened (fct_pilot_prediction). Every label, unit and definition
is the glossary's (`readout_<metric>`, docs blocks pilot_readout, rollback_triggers,
pilot_control_group, pilot_prediction).
"""

from __future__ import annotations

import pandas as pd

from dashboards.lib.definitions import label, unit
from dashboards.lib.format import MISSING, by_unit, count, money, number, text
from dashboards.lib.shaping import signed_percent

# The readout's metrics in the order the page lists them (macro pilot_readout_metric_sql).
METRICS = (
    "mrr",
    "logo_churn",
    "bill_shock_rate",
    "billing_tickets_per_100_accounts",
    "usage_per_account",
    "gross_margin",
)
# Which readout metric each rollback trigger judges.
TRIGGER_METRICS = {
    "logo_churn": "logo_churn",
    "bill_shock_rate": "bill_shock_rate",
    "billing_tickets": "billing_tickets_per_100_accounts",
}
TRIGGER_WORDS = {
    "logo_churn": "Logo churn above the control's",
    "bill_shock_rate": "Bill-shock rate",
    "billing_tickets": "Billing tickets against the control's",
}


def metric_label(metric: str) -> str:
    return label(f"readout_{metric}", metric.replace("_", " ").capitalize())


def metric_unit(metric: str) -> str:
    return unit(f"readout_{metric}")


def value_text(metric: str, value: object) -> str:
    return by_unit(value, metric_unit(metric))


def difference_text(metric: str, value: object) -> str:
    """A difference of the metric, signed: points for a share, dollars, or a plain number."""
    if value is None or pd.isna(value):
        return MISSING
    kind = metric_unit(metric)
    if kind == "fraction":
        return f"{float(value) * 100:+.1f} pts"
    if kind == "usd":
        return ("+" if float(value) >= 0 else "-") + money(abs(float(value)))
    magnitude = abs(float(value))
    if magnitude < 1000:
        return f"{float(value):+,.1f}"
    if magnitude < 10_000:
        return f"{float(value):+,.0f}"
    # compact from ten thousand as money is (+57.3K, -4.8M, 999,960 as +1.0M), so the interval
    # beside it stays short
    return ("+" if float(value) >= 0 else "-") + money(magnitude, currency_symbol="")


def readout_table(readout: pd.DataFrame) -> pd.DataFrame:
    """One row per metric: each arm before and after, the difference in differences and its
    interval, in words."""
    rows = []
    for metric in METRICS:
        found = readout[readout["metric"] == metric]
        if found.empty:
            continue
        row = found.iloc[0]
        level = float(row["interval_level"])
        rows.append(
            {
                "Metric": metric_label(metric),
                "Pilot before": value_text(metric, row["pilot_before"]),
                "Pilot after": value_text(metric, row["pilot_after"]),
                "Control before": value_text(metric, row["control_before"]),
                "Control after": value_text(metric, row["control_after"]),
                # the effect is the difference in differences (its column's help says so); the
                # shorter header keeps every column in view at 1280 px
                f"Effect ({level:.0%} interval)": (
                    f"{difference_text(metric, row['difference_in_differences'])} "
                    f"({difference_text(metric, row['interval_low'])} .. "
                    f"{difference_text(metric, row['interval_high'])})"
                ),
                "Shown": _holds_zero(row),
            }
        )
    return pd.DataFrame(rows)


def _holds_zero(row: pd.Series) -> str:
    low, high = row["interval_low"], row["interval_high"]
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return MISSING
    return "not yet" if float(low) <= 0 <= float(high) else "yes"


def trigger_table(triggers: pd.DataFrame) -> pd.DataFrame:
    """One row per rollback trigger: what it measures, its threshold, crossed or not."""
    rows = []
    for row in triggers.itertuples():
        name = str(row.trigger_name)
        rows.append(
            {
                "Trigger": TRIGGER_WORDS.get(name, name),
                "Measured": _trigger_text(name, row.trigger_value),
                "Threshold": _trigger_text(name, row.threshold),
                "Status": "CROSSED: roll back" if row.is_crossed else "within",
            }
        )
    return pd.DataFrame(rows)


def _trigger_text(name: str, value: object) -> str:
    if value is None or pd.isna(value):
        return MISSING
    if name == "logo_churn":
        return f"{float(value) * 100:+.1f} pts"
    return f"{float(value):.1%}" if name == "bill_shock_rate" else f"{float(value):+.0%}"


def crossed(triggers: pd.DataFrame) -> list[str]:
    """The crossed triggers' evidence, one sentence each."""
    sentences = []
    for row in triggers[triggers["is_crossed"].astype(bool)].itertuples():
        name = str(row.trigger_name)
        metric = TRIGGER_METRICS.get(name, name)
        sentences.append(
            f"{TRIGGER_WORDS.get(name, name)}: {_trigger_text(name, row.trigger_value)} against "
            f"a threshold of {_trigger_text(name, row.threshold)} (pilot "
            f"{value_text(metric, row.pilot_after)}, control "
            f"{value_text(metric, row.control_after)}, {number(row.months_observed, 0)} months "
            "after the switch)"
        )
    return sentences


def threshold_line(metric: str, triggers: pd.DataFrame) -> float | None:
    """Where a rollback trigger draws its line on the metric's monthly chart: the bill-shock
    threshold itself, or the control's level after the switch moved by the threshold."""
    for row in triggers.itertuples():
        if TRIGGER_METRICS.get(str(row.trigger_name)) != metric:
            continue
        if row.trigger_name == "bill_shock_rate":
            return float(row.threshold)
        if row.control_after is None or pd.isna(row.control_after):
            return None
        if row.trigger_name == "logo_churn":
            return float(row.control_after) + float(row.threshold)
        return float(row.control_after) * (1 + float(row.threshold))
    return None


MATCH_FEATURES = {
    "mrr_usd": "MRR",
    "billable_seats": "Billable seats",
    "automation_share": "Automation share",
    "seat_utilization": "Seat utilization",
}


def match_summary(quality: pd.DataFrame, bar: float | None) -> str:
    """The sentence above the match table: the bar in force (the setting
    pilot_match_max_standardised_difference of the build), how many features the arms match
    closely, and which they do not."""
    if bar is None:
        return "Averages over the months before each account's switch."
    judged = quality["is_close_match"].dropna()
    close = int(judged.astype(bool).sum())
    apart = [
        _in_a_sentence(MATCH_FEATURES.get(f, f))
        for f, is_close in zip(quality["feature"], quality["is_close_match"], strict=True)
        if not pd.isna(is_close) and not bool(is_close)
    ]
    sentence = (
        "Averages over the months before each account's switch; the arms are a close match on a "
        f"feature when its standardised difference is within {bar:g} either way: "
        f"{close} of {len(judged)} features {'is' if close == 1 else 'are'}."
    )
    if apart:
        sentence += (
            f" They differ on {_joined(apart)}: the difference in differences removes a gap the "
            "arms had before the switch, not a different trend that comes with it."
        )
    return sentence


def _in_a_sentence(name: str) -> str:
    """A feature's name inside a sentence: "seat utilization", but "MRR" as it is."""
    return name if name.isupper() else name[:1].lower() + name[1:]


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def match_table(quality: pd.DataFrame) -> pd.DataFrame:
    """How alike the arms were before the switch, per feature."""
    words = MATCH_FEATURES
    units = {"mrr_usd": "usd", "automation_share": "fraction", "seat_utilization": "fraction"}
    return pd.DataFrame(
        {
            "Feature": [words.get(f, f) for f in quality["feature"]],
            "Pilot": [
                by_unit(v, units.get(f, "per_seat"))
                for f, v in zip(quality["feature"], quality["pilot_mean"], strict=True)
            ],
            "Control": [
                by_unit(v, units.get(f, "per_seat"))
                for f, v in zip(quality["feature"], quality["control_mean"], strict=True)
            ],
            "Standardised difference": [
                MISSING if pd.isna(v) else f"{float(v):+.2f}"
                for v in quality["standardised_difference"]
            ],
            "Close match": [
                MISSING if pd.isna(v) else ("yes" if bool(v) else "no")
                for v in quality["is_close_match"]
            ],
        }
    )


def prediction_table(prediction: pd.DataFrame) -> pd.DataFrame:
    """The prediction at the switch beside what happened: the whole pilot, then each account."""
    return pd.DataFrame(
        {
            "Account": [
                "The whole pilot" if scope == "pilot" else text(name or account)
                for scope, name, account in zip(
                    prediction["scope"],
                    prediction["account_name"],
                    prediction["account_id"],
                    strict=True,
                )
            ],
            "Before": prediction["mrr_before_usd"].map(money),
            "Predicted": prediction["predicted_mrr_usd"].map(money),
            "Paid since": prediction["mrr_after_usd"].map(money),
            "Predicted change": prediction["predicted_change_pct"].map(signed_percent),
            "Realised change": prediction["realised_change_pct"].map(signed_percent),
            "Paid against predicted": prediction["prediction_error_pct"].map(signed_percent),
            "Months": [
                f"{count(before)} / {count(after)}"
                for before, after in zip(
                    prediction["months_before"], prediction["months_after"], strict=True
                )
            ],
        }
    )


def prediction_summary(prediction: pd.DataFrame, readout: pd.DataFrame | None = None) -> str | None:
    """One sentence on the whole pilot's prediction, or None before any account paid after; with
    the readout's rows, a second one on what the gap is: the accounts' own change after the switch
    (the prediction and the bills are the same model's charges of their own months), set beside
    the control group's MRR over the same months."""
    whole = prediction[prediction["scope"] == "pilot"]
    if whole.empty:
        return None
    row = whole.iloc[0]
    said = (
        f"At the switch, shadow billing predicted {money(row['predicted_mrr_usd'])} a month from "
        f"these {count(row['accounts'])} accounts ({signed_percent(row['predicted_change_pct'])} "
        f"against their {money(row['mrr_before_usd'])} before); they paid "
        f"{money(row['mrr_after_usd'])} ({signed_percent(row['realised_change_pct'])}): "
        f"{signed_percent(row['prediction_error_pct'])} against the prediction."
    )
    mrr = readout[readout["metric"] == "mrr"] if readout is not None else pd.DataFrame()
    if mrr.empty:
        return said
    arms = mrr.iloc[0]
    pilot_change = _change(arms["pilot_after"], arms["pilot_before"])
    control_change = _change(arms["control_after"], arms["control_before"])
    if pilot_change is None or control_change is None:
        return said
    return said + (
        " The gap is not a rating error: both are the model's charges of the accounts' own months, "
        "so it is what their seats and usage did after the switch. Over the same months the "
        f"control group's MRR per account moved {signed_percent(control_change)}, the pilot's "
        f"{signed_percent(pilot_change)} (the readout's MRR row)."
    )


def _change(after: float, before: float) -> float | None:
    """after / before - 1, or None without a before."""
    if before is None or after is None or pd.isna(before) or pd.isna(after) or before == 0:
        return None
    return float(after) / float(before) - 1

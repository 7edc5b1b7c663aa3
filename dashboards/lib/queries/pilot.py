"""After the switch: the pilot read out against its control group, the months of both arms, how
alike they were before, the rollback triggers, and the prediction made at the switch beside what
happened.
"""

from __future__ import annotations

import pandas as pd

from ._core import _read


def pilot_readout() -> pd.DataFrame:
    """fct_pilot_readout: per piloted proposal and metric, each arm before and after the switch,
    the difference in differences and its bootstrap interval."""
    return _read(
        "the pilot readout",
        """
        select readout.*, models.name
        from marts.fct_pilot_readout as readout
        inner join marts.dim_price_models as models
            on readout.pilot_model_id = models.price_model_id
        order by readout.pilot_model_id, readout.metric
        """,
    )


def pilot_readout_monthly(pilot_model_id: str) -> pd.DataFrame:
    """fct_pilot_readout_monthly of one piloted proposal: each arm's months around the switch."""
    return _read(
        "the pilot's months",
        """
        select arm, months_from_switch, metric, mean_value, units
        from marts.fct_pilot_readout_monthly
        where pilot_model_id = ?
        order by metric, arm, months_from_switch
        """,
        (pilot_model_id,),
    )


def pilot_rollback_triggers() -> pd.DataFrame:
    """fct_pilot_rollback_triggers: per piloted proposal, each trigger's value, threshold and
    whether it is crossed."""
    return _read(
        "the rollback triggers",
        """
        select triggers.*, models.name
        from marts.fct_pilot_rollback_triggers as triggers
        inner join marts.dim_price_models as models
            on triggers.pilot_model_id = models.price_model_id
        order by triggers.pilot_model_id, triggers.trigger_name
        """,
    )


def pilot_match_quality(pilot_model_id: str) -> pd.DataFrame:
    """fct_pilot_match_quality of one piloted proposal: how alike the arms were before."""
    return _read(
        "the control group's match",
        """
        select feature, pilot_mean, control_mean, standardised_difference, is_close_match,
            pilot_units, control_units
        from marts.fct_pilot_match_quality
        where pilot_model_id = ?
        order by feature
        """,
        (pilot_model_id,),
    )


def pilot_prediction(pilot_model_id: str) -> pd.DataFrame:
    """fct_pilot_prediction of one piloted proposal: the whole pilot first, then each account (with
    its name), the prediction at the switch beside what happened."""
    return _read(
        "the prediction at the switch",
        """
        select prediction.*, accounts.account_name
        from marts.fct_pilot_prediction as prediction
        left join marts.dim_accounts as accounts
            on prediction.account_id = accounts.account_id
        where prediction.pilot_model_id = ?
        order by case when prediction.scope = 'pilot' then 0 else 1 end, prediction.account_id
        """,
        (pilot_model_id,),
    )

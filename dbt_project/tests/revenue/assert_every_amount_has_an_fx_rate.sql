-- Rule: every non-USD invoice and month-end MRR finds a rate on or before its date. Warns with the
-- currency and dates (rpt_missing_fx_rates) instead of failing the refresh: the amounts stay null,
-- never guessed, and the rest of the warehouse is still worth publishing.
{{ config(severity='warn') }}
select * from {{ ref('rpt_missing_fx_rates') }}

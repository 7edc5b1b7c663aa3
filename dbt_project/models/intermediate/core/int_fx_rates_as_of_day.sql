-- Grain: one row per currency per published rate (currency + rate_date).
-- The rate in force on a day is the latest one published on or before it (the export contract):
-- each rate
-- holds from its rate_date (valid_from, inclusive) to its currency's next rate_date (valid_to,
-- exclusive; null while it is the latest). Models convert an amount of day d with the row where
-- valid_from <= d < coalesce(valid_to, infinity); a day before a currency's first rate has no row,
-- so its amount stays unconverted (never guessed). USD is 1 by definition and needs no row.
with

fx_rates as (select * from {{ ref('stg_treasury__fx_rates') }}),

intervaled as (
    select
        currency || '|' || cast(rate_date as {{ dbt.type_string() }}) as fx_rate_id,
        currency,
        rate_date,
        usd_per_unit,
        rate_date as valid_from,
        lead(rate_date) over (partition by currency order by rate_date) as valid_to
    from fx_rates
)

select * from intervaled

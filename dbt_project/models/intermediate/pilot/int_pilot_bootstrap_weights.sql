-- Grain: one row per pilot model x unit x resample (pilot_model_id, unit_id, sample_id).
-- The pilot readout's bootstrap (docs block pilot_readout): in each of readout_bootstrap_samples
-- resamples, every unit of both arms (int_pilot_arms) is drawn `weight` times, Poisson(1)
-- distributed (macro poisson_bootstrap_weight), from a uniform number computed from the unit's
-- ordinal within its pilot and the resample's number (macro bootstrap_uniform): the same weights
-- on every engine and every build of the same arms.
{%- set samples = var('readout_bootstrap_samples') | int %}
with

arms as (select * from {{ ref('int_pilot_arms') }}),

unit_ordinals as (
    select
        pilot_model_id,
        unit_id,
        dense_rank() over (partition by pilot_model_id order by arm, unit_id) as unit_ordinal
    from arms
),

samples as (
    select generated_number as sample_id
    from ({{ dbt.generate_series(samples) }}) as sample_numbers
),

draws as (
    select
        unit_ordinals.pilot_model_id,
        unit_ordinals.unit_id,
        unit_ordinals.unit_ordinal,
        samples.sample_id,
        {{ bootstrap_uniform('unit_ordinals.unit_ordinal', 'samples.sample_id') | indent(8) }}
            as uniform
    from unit_ordinals
    cross join samples
),

final as (
    select
        pilot_model_id,
        unit_id,
        cast(unit_ordinal as integer) as unit_ordinal,
        cast(sample_id as integer) as sample_id,
        cast({{ poisson_bootstrap_weight('uniform') | indent(8) }} as integer) as weight
    from draws
)

select * from final

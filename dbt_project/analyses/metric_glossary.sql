-- The metric glossary as the dashboard reads it. The registry behind it is this analysis's YAML
-- (_glossary.yml): one column per metric the dashboard shows, described by the metric's docs block,
-- with its label and unit; marts.rpt_metric_definitions turns those columns into rows.
select
    metric,
    label,
    definition,
    unit
from {{ ref('rpt_metric_definitions') }}

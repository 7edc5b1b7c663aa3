-- The settings in force as the dashboard reads them. The registry behind it is this analysis's YAML
-- (_glossary.yml): one column per dbt var of dbt_project.yml, described once, with its unit;
-- marts.rpt_settings adds the value in force and the default.
select
    name,
    value,
    default_value,
    description,
    unit
from {{ ref('rpt_settings') }}

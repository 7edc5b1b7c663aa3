-- Rule: rpt_data_as_of has exactly one row, also on an empty warehouse (the dashboard reads it
-- without a fallback). Exceptions: none.
select count(*) as row_count
from {{ ref('rpt_data_as_of') }}
having count(*) <> 1

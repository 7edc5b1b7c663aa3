"""Stand-ins for dbt's cross-database macros, so `templater = jinja` can lint without a dbt parse.

They render the DuckDB spelling; only the SQL's shape matters to the linter.
"""


def type_string():
    return "varchar"


def type_timestamp():
    return "timestamp"


def type_bigint():
    return "bigint"


def type_int():
    return "integer"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + {interval} * interval 1 {datepart})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def generate_series(upper_bound):
    return f"select generate_series as generated_number from generate_series(1, {upper_bound})"


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    return f"string_agg({measure}, {delimiter_text} {order_by_clause or ''})"


def length(expression):
    return f"length({expression})"


def right(string_text, length_expression):
    return f"right({string_text}, {length_expression})"


def hash(field):  # the name of dbt's macro
    return f"md5(cast({field} as varchar))"


def split_part(string_text, delimiter_text, part_number):
    return f"split_part({string_text}, {delimiter_text}, {part_number})"

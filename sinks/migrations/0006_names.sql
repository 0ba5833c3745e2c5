-- Names for the codes, and plain level columns (issue 18).
--
-- units: every unit of the geography (city, counties, townships, villages, grids) with its Chinese name, kind,
-- parent and county/township codes; categories: the taxonomy's codes with Chinese and English names. Both are
-- filled by `gridflow init` (sinks.dimensions) from schemas/data, so a query can JOIN a code to its name.
-- transitions_named: transitions_distinct with levels, statuses and reason as plain strings ('' for none),
-- because ClickHouse 18.16 cannot apply toString() or ifNull() to a Nullable(Enum8).
CREATE TABLE IF NOT EXISTS {db}.units
(
    code String,
    level {enum_level},
    kind String,
    name String,
    parent String,
    county String,
    township String,
    simulated UInt8,
    lon Float64,
    lat Float64
)
ENGINE = MergeTree()
ORDER BY code;

CREATE TABLE IF NOT EXISTS {db}.categories
(
    code String,
    name_zh String,
    name_en String,
    category_group String,
    base_severity UInt8
)
ENGINE = MergeTree()
ORDER BY code;

CREATE VIEW IF NOT EXISTS {db}.transitions_named AS
SELECT
    transition_id,
    incident_id,
    seq,
    {name_of_from_status} AS from_status,
    toString(to_status) AS to_status,
    {name_of_from_level} AS from_level,
    toString(to_level) AS to_level,
    toString(reason) AS reason,
    at,
    rule_ids,
    handling_unit
FROM {db}.transitions_distinct;

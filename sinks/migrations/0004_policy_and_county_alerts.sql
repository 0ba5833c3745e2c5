-- The policy as data (issue 13): every incident and transition records the policy it was decided under
-- (policy_version, "name/version" of policy.toml) and the units notified besides the handler
-- (notified_units: the county of a severity-5 matter the city handles). County alerts, raised by the
-- county stage when several townships of one county cluster on one category, are landed too.
--
-- {add_column} is ADD COLUMN IF NOT EXISTS where the engine has it; on 18.16 it is a plain ADD COLUMN, so
-- there each ALTER adds all of a table's columns at once (one metadata change) and comes first. The views
-- are replaced with DROP TABLE IF EXISTS, which drops a view on every engine (18.16 has no DROP VIEW).

ALTER TABLE {db}.incidents
    {add_column} notified_units Array(String) AFTER merged_into,
    {add_column} policy_version {lc_string} AFTER notified_units;

ALTER TABLE {db}.transitions
    {add_column} notified_units Array(String) AFTER handling_unit,
    {add_column} policy_version {lc_string} AFTER notified_units;

DROP TABLE IF EXISTS {db}.incidents_latest;

CREATE VIEW IF NOT EXISTS {db}.incidents_latest AS
SELECT
    incident_id,
    argMax(message_status, v) AS message_status,
    argMax(category, v) AS category,
    argMax(severity, v) AS severity,
    argMax(level, v) AS level,
    argMax(handling_unit, v) AS handling_unit,
    argMax(grid_code, v) AS grid_code,
    argMax(township_code, v) AS township_code,
    argMax(county_code, v) AS county_code,
    argMax(status, v) AS status,
    argMax(source_event_ids, v) AS source_event_ids,
    argMax(opened_at, v) AS opened_at,
    argMax(due_at, v) AS due_at,
    argMax(resolved_at, v) AS resolved_at,
    argMax(updated_at, v) AS updated_at,
    max(v) AS version,
    argMax(reasons, v) AS reasons,
    argMax(overdue, v) AS overdue,
    argMax(reopen_count, v) AS reopen_count,
    argMax(merged_into, v) AS merged_into,
    argMax(notified_units, v) AS notified_units,
    argMax(policy_version, v) AS policy_version,
    min(ingested_at) AS ingested_at
FROM (SELECT *, version AS v FROM {db}.incidents)
GROUP BY incident_id;

DROP TABLE IF EXISTS {db}.transitions_distinct;

CREATE VIEW IF NOT EXISTS {db}.transitions_distinct AS
SELECT
    transition_id,
    any(message_status) AS message_status,
    any(incident_id) AS incident_id,
    any(seq) AS seq,
    any(from_status) AS from_status,
    any(to_status) AS to_status,
    any(from_level) AS from_level,
    any(to_level) AS to_level,
    any(reason) AS reason,
    any(at) AS at,
    any(rule_ids) AS rule_ids,
    any(source_event_id) AS source_event_id,
    any(handling_unit) AS handling_unit,
    any(notified_units) AS notified_units,
    any(policy_version) AS policy_version,
    min(ingested_at) AS ingested_at
FROM {db}.transitions
GROUP BY transition_id;

CREATE TABLE IF NOT EXISTS {db}.county_alerts
(
    alert_id UUID,
    message_status {enum_message_status},
    county_code {lc_string},
    category {lc_string},
    townships Array(String),
    signal_ids Array(UUID),
    window_start DateTime('Asia/Shanghai'),
    at DateTime('Asia/Shanghai'),
    rule_id {lc_string},
    policy_version {lc_string},
    ingested_at DateTime('Asia/Shanghai')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY alert_id
{table_settings};

CREATE VIEW IF NOT EXISTS {db}.county_alerts_distinct AS
SELECT
    alert_id,
    any(message_status) AS message_status,
    any(county_code) AS county_code,
    any(category) AS category,
    any(townships) AS townships,
    any(signal_ids) AS signal_ids,
    any(window_start) AS window_start,
    any(at) AS at,
    any(rule_id) AS rule_id,
    any(policy_version) AS policy_version,
    min(ingested_at) AS ingested_at
FROM {db}.county_alerts
GROUP BY alert_id;

-- 多元化解 (issue 13): incidents and transitions name the body that leads at the current level, its
-- co-handlers and the handling rule (body codes "<unit>:<kind>", schemas/data/bodies.toml); dispositions
-- name the body that acted and, on a resolution or a referral, the outcome (mediated, litigated, arbitrated,
-- referred, handled). The analysts' query pack reads them for 司法一元 → 社会多元 (settled by mediation versus
-- litigation) and each body's load and time to resolve.
--
-- As in 0004: {add_column} is plain ADD COLUMN on 18.16 (each ALTER adds a table's columns at once), and the
-- views are replaced with DROP TABLE IF EXISTS.

ALTER TABLE {db}.incidents
    {add_column} lead_body {lc_string} AFTER policy_version,
    {add_column} co_bodies Array(String) AFTER lead_body,
    {add_column} body_rule {lc_string} AFTER co_bodies;

ALTER TABLE {db}.transitions
    {add_column} lead_body {lc_string} AFTER policy_version,
    {add_column} co_bodies Array(String) AFTER lead_body,
    {add_column} body_rule {lc_string} AFTER co_bodies;

ALTER TABLE {db}.dispositions
    {add_column} body {lc_string} AFTER note,
    {add_column} outcome {lc_string} AFTER body;

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
    argMax(lead_body, v) AS lead_body,
    argMax(co_bodies, v) AS co_bodies,
    argMax(body_rule, v) AS body_rule,
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
    any(lead_body) AS lead_body,
    any(co_bodies) AS co_bodies,
    any(body_rule) AS body_rule,
    min(ingested_at) AS ingested_at
FROM {db}.transitions
GROUP BY transition_id;

DROP TABLE IF EXISTS {db}.dispositions_distinct;

CREATE VIEW IF NOT EXISTS {db}.dispositions_distinct AS
SELECT
    event_id,
    any(message_status) AS message_status,
    any(incident_id) AS incident_id,
    any(grid_code) AS grid_code,
    any(township_code) AS township_code,
    any(county_code) AS county_code,
    any(unit_code) AS unit_code,
    any(unit_level) AS unit_level,
    any(action) AS action,
    any(at) AS at,
    any(note) AS note,
    any(body) AS body,
    any(outcome) AS outcome,
    min(ingested_at) AS ingested_at
FROM {db}.dispositions
GROUP BY event_id;

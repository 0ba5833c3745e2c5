-- Views that collapse redelivered rows at read time, so analysts never count a duplicate even before the
-- ReplacingMergeTree merges have run. Query these, not the base tables.
--
--   grid_reports_distinct, camera_alerts_distinct, dispositions_distinct   one row per event_id
--   events_distinct        the three intake kinds in one shape (kind, codes, category, event_time)
--   incidents_latest       one row per incident_id: the state with the highest version
--   transitions_distinct   one row per transition_id
--   dead_letters_distinct  one row per dead_letter_id
--
-- Redelivered rows are identical apart from where and when they landed, so any() is exact for them;
-- ingested_at becomes the first landing time. incidents_latest aggregates with argMax over a renamed
-- version column because old servers resolve an alias named like a column inside other aggregates.

CREATE VIEW IF NOT EXISTS {db}.grid_reports_distinct AS
SELECT
    event_id,
    any(message_status) AS message_status,
    any(grid_code) AS grid_code,
    any(township_code) AS township_code,
    any(county_code) AS county_code,
    any(category) AS category,
    any(occurred_at) AS occurred_at,
    any(reported_at) AS reported_at,
    any(lon) AS lon,
    any(lat) AS lat,
    any(parties) AS parties,
    any(injured) AS injured,
    any(severity_hint) AS severity_hint,
    any(reporter_id) AS reporter_id,
    any(description) AS description,
    min(ingested_at) AS ingested_at
FROM {db}.grid_reports
GROUP BY event_id;

CREATE VIEW IF NOT EXISTS {db}.camera_alerts_distinct AS
SELECT
    event_id,
    any(message_status) AS message_status,
    any(camera_id) AS camera_id,
    any(grid_code) AS grid_code,
    any(township_code) AS township_code,
    any(county_code) AS county_code,
    any(alert_type) AS alert_type,
    any(category) AS category,
    any(confidence) AS confidence,
    any(object_count) AS object_count,
    any(detected_at) AS detected_at,
    any(lon) AS lon,
    any(lat) AS lat,
    any(snapshot_sha256) AS snapshot_sha256,
    min(ingested_at) AS ingested_at
FROM {db}.camera_alerts
GROUP BY event_id;

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
    min(ingested_at) AS ingested_at
FROM {db}.dispositions
GROUP BY event_id;

CREATE VIEW IF NOT EXISTS {db}.events_distinct AS
SELECT
    event_id,
    'grid_report' AS kind,
    CAST(grid_code AS String) AS grid_code,
    CAST(township_code AS String) AS township_code,
    CAST(county_code AS String) AS county_code,
    CAST(category AS String) AS category,
    occurred_at AS event_time,
    ingested_at
FROM {db}.grid_reports_distinct
UNION ALL
SELECT
    event_id,
    'camera_alert' AS kind,
    CAST(grid_code AS String) AS grid_code,
    CAST(township_code AS String) AS township_code,
    CAST(county_code AS String) AS county_code,
    CAST(category AS String) AS category,
    detected_at AS event_time,
    ingested_at
FROM {db}.camera_alerts_distinct
UNION ALL
SELECT
    event_id,
    'disposition' AS kind,
    CAST(grid_code AS String) AS grid_code,
    CAST(township_code AS String) AS township_code,
    CAST(county_code AS String) AS county_code,
    '' AS category,
    at AS event_time,
    ingested_at
FROM {db}.dispositions_distinct;

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
    min(ingested_at) AS ingested_at
FROM (SELECT *, version AS v FROM {db}.incidents)
GROUP BY incident_id;

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
    min(ingested_at) AS ingested_at
FROM {db}.transitions
GROUP BY transition_id;

CREATE VIEW IF NOT EXISTS {db}.dead_letters_distinct AS
SELECT
    dead_letter_id,
    any(message_status) AS message_status,
    any(source_topic) AS source_topic,
    any(source_partition) AS source_partition,
    any(source_offset) AS source_offset,
    any(raw_base64) AS raw_base64,
    any(raw_preview) AS raw_preview,
    any(raw_size) AS raw_size,
    any(error_class) AS error_class,
    any(error_message) AS error_message,
    min(processed_at) AS processed_at,
    min(ingested_at) AS ingested_at
FROM {db}.dead_letters
GROUP BY dead_letter_id;

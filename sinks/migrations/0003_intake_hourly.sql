-- Hourly intake volume, kept up to date at insert time by materialized views (one per intake table).
--
-- It pays where dashboards chart months of intake by hour, county and category: the aggregate table is a
-- few thousand rows per day instead of every event. It stays exact under redelivery because it stores
-- uniqExact states of event ids rather than counts: a duplicate adds an id the state already holds.
-- Read it with: SELECT hour, kind, county_code, category, uniqExactMerge(events) FROM {db}.intake_hourly
-- GROUP BY hour, kind, county_code, category.

CREATE TABLE IF NOT EXISTS {db}.intake_hourly
(
    hour DateTime('Asia/Shanghai'),
    kind String,
    county_code String,
    category String,
    events AggregateFunction(uniqExact, UUID)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, kind, county_code, category);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.intake_hourly_grid_reports_mv TO {db}.intake_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour,
    'grid_report' AS kind,
    CAST(county_code AS String) AS county_code,
    CAST(category AS String) AS category,
    uniqExactState(event_id) AS events
FROM {db}.grid_reports
GROUP BY hour, kind, county_code, category;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.intake_hourly_camera_alerts_mv TO {db}.intake_hourly AS
SELECT
    toStartOfHour(detected_at) AS hour,
    'camera_alert' AS kind,
    CAST(county_code AS String) AS county_code,
    CAST(category AS String) AS category,
    uniqExactState(event_id) AS events
FROM {db}.camera_alerts
GROUP BY hour, kind, county_code, category;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.intake_hourly_dispositions_mv TO {db}.intake_hourly AS
SELECT
    toStartOfHour(at) AS hour,
    'disposition' AS kind,
    CAST(county_code AS String) AS county_code,
    '' AS category,
    uniqExactState(event_id) AS events
FROM {db}.dispositions
GROUP BY hour, kind, county_code, category;

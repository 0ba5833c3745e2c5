-- Base tables: raw intake events (one table per kind), incidents, transitions and dead letters.
--
-- Every table is a ReplacingMergeTree whose sorting key is the message id, so a row redelivered by Kafka
-- (at-least-once) collapses into one when parts merge; until then the views in 0002 collapse it at read
-- time. Partition keys use times fixed by the message (event time), never the landing time, so a duplicate
-- always lands in the same partition as its original and can be merged away.
--
-- Placeholders: {db}; {lc_string} LowCardinality(String); {enum_*} from sinks/codes.py; {raw_ttl} drops the
-- raw JSON (it holds personal data) where the engine has TTL; {table_settings} turns on insert
-- deduplication for plain MergeTree where the engine has it. Times are DateTime in Asia/Shanghai (seconds).

CREATE TABLE IF NOT EXISTS {db}.grid_reports
(
    event_id UUID,
    message_status {enum_message_status},
    grid_code {lc_string},
    township_code {lc_string},
    county_code {lc_string},
    category {lc_string},
    occurred_at DateTime('Asia/Shanghai'),
    reported_at DateTime('Asia/Shanghai'),
    lon Float64,
    lat Float64,
    parties UInt32,
    injured UInt32,
    severity_hint Nullable(UInt8),
    reporter_id String,
    description String,
    source_topic {lc_string},
    source_partition UInt16,
    source_offset UInt64,
    raw String {raw_ttl},
    ingested_at DateTime('Asia/Shanghai')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY event_id
{table_settings};

CREATE TABLE IF NOT EXISTS {db}.camera_alerts
(
    event_id UUID,
    message_status {enum_message_status},
    camera_id {lc_string},
    grid_code {lc_string},
    township_code {lc_string},
    county_code {lc_string},
    alert_type {enum_alert_type},
    category {lc_string},
    confidence Float32,
    object_count UInt32,
    detected_at DateTime('Asia/Shanghai'),
    lon Float64,
    lat Float64,
    snapshot_sha256 String,
    source_topic {lc_string},
    source_partition UInt16,
    source_offset UInt64,
    raw String {raw_ttl},
    ingested_at DateTime('Asia/Shanghai')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(detected_at)
ORDER BY event_id
{table_settings};

CREATE TABLE IF NOT EXISTS {db}.dispositions
(
    event_id UUID,
    message_status {enum_message_status},
    incident_id UUID,
    grid_code {lc_string},
    township_code {lc_string},
    county_code {lc_string},
    unit_code {lc_string},
    unit_level {enum_level},
    action {enum_disposition_action},
    at DateTime('Asia/Shanghai'),
    note String,
    source_topic {lc_string},
    source_partition UInt16,
    source_offset UInt64,
    raw String {raw_ttl},
    ingested_at DateTime('Asia/Shanghai')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY event_id
{table_settings};

-- One row per published version of an incident; the highest version wins (ReplacingMergeTree(version)).
CREATE TABLE IF NOT EXISTS {db}.incidents
(
    incident_id UUID,
    message_status {enum_message_status},
    category {lc_string},
    severity UInt8,
    level {enum_level},
    handling_unit {lc_string},
    grid_code {lc_string},
    township_code {lc_string},
    county_code {lc_string},
    status {enum_incident_status},
    source_event_ids Array(UUID),
    opened_at DateTime('Asia/Shanghai'),
    due_at Nullable(DateTime('Asia/Shanghai')),
    resolved_at Nullable(DateTime('Asia/Shanghai')),
    updated_at DateTime('Asia/Shanghai'),
    version UInt32,
    reasons Array(String),
    overdue UInt8,
    reopen_count UInt16,
    merged_into Nullable(UUID),
    ingested_at DateTime('Asia/Shanghai')
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(opened_at)
ORDER BY incident_id
{table_settings};

CREATE TABLE IF NOT EXISTS {db}.transitions
(
    transition_id UUID,
    message_status {enum_message_status},
    incident_id UUID,
    seq UInt32,
    from_status Nullable({enum_incident_status}),
    to_status {enum_incident_status},
    from_level Nullable({enum_level}),
    to_level {enum_level},
    reason {enum_transition_reason},
    at DateTime('Asia/Shanghai'),
    rule_ids Array(String),
    source_event_id Nullable(UUID),
    handling_unit {lc_string},
    ingested_at DateTime('Asia/Shanghai')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY transition_id
{table_settings};

-- Not partitioned: processed_at is wall-clock time, so a re-processed dead letter may carry another one.
CREATE TABLE IF NOT EXISTS {db}.dead_letters
(
    dead_letter_id UUID,
    message_status {enum_message_status},
    source_topic {lc_string},
    source_partition Int32,
    source_offset Int64,
    raw_base64 String,
    raw_preview String,
    raw_size UInt32,
    error_class {lc_string},
    error_message String,
    processed_at DateTime('Asia/Shanghai'),
    ingested_at DateTime('Asia/Shanghai')
)
ENGINE = ReplacingMergeTree()
ORDER BY dead_letter_id
{table_settings};

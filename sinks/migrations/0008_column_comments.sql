-- Column comments on every table (issue 18): what each column holds, in the engine, where system.columns
-- and `DESCRIBE` show it; docs/warehouse.md prints them, and a view column shows its source column comment.
--
-- ALTER TABLE … COMMENT COLUMN exists on 18.16 and on the current engine, and is re-run safe. Tables created
-- from 0007 on carry their comments in their CREATE statements. Levels: docs/levels.md; rules: the rules
-- table and docs/policy.md; times are DateTime in Asia/Shanghai.
ALTER TABLE {db}.grid_reports
    COMMENT COLUMN event_id 'message id of the report, unique per report (redeliveries share it)',
    COMMENT COLUMN message_status 'actual for real-world data, exercise for simulated or replayed data',
    COMMENT COLUMN grid_code 'the 15-digit code of the grid; join units.code for names',
    COMMENT COLUMN township_code 'the 9-digit code of the township of the grid',
    COMMENT COLUMN county_code 'the 6-digit code of the county of the grid',
    COMMENT COLUMN category 'the taxonomy category code; join categories.code for names',
    COMMENT COLUMN occurred_at 'when the matter happened, as reported (event time)',
    COMMENT COLUMN reported_at 'when the grid member sent the report',
    COMMENT COLUMN lon 'longitude of the place (WGS84)',
    COMMENT COLUMN lat 'latitude of the place (WGS84)',
    COMMENT COLUMN parties 'number of people involved',
    COMMENT COLUMN injured 'number of people injured',
    COMMENT COLUMN severity_hint 'the grid member judgement of severity 1 to 5, if given',
    COMMENT COLUMN reporter_id 'the grid member, tokenised (personal data)',
    COMMENT COLUMN description 'free text of the report (personal data masked)',
    COMMENT COLUMN source_topic 'the Kafka topic the row was read from',
    COMMENT COLUMN source_partition 'the Kafka partition the row was read from',
    COMMENT COLUMN source_offset 'the Kafka offset the row was read from',
    COMMENT COLUMN raw 'the message as received (JSON); dropped after 90 days where the engine can expire columns',
    COMMENT COLUMN ingested_at 'when the sink landed the row (wall clock, not event time)';

ALTER TABLE {db}.camera_alerts
    COMMENT COLUMN event_id 'message id of the alarm, unique per alarm (redeliveries share it)',
    COMMENT COLUMN message_status 'actual for real-world data, exercise for simulated or replayed data',
    COMMENT COLUMN camera_id 'the camera that raised the alarm',
    COMMENT COLUMN grid_code 'the 15-digit code of the grid the camera watches; join units.code for names',
    COMMENT COLUMN township_code 'the 9-digit code of the township of the grid',
    COMMENT COLUMN county_code 'the 6-digit code of the county of the grid',
    COMMENT COLUMN alert_type 'what the video analytics saw: crowd_gathering, fight, fire_smoke, ice_jam, …',
    COMMENT COLUMN category 'the taxonomy category of the alarm type; join categories.code for names',
    COMMENT COLUMN confidence 'the analytics confidence, 0 to 1; below policy camera_verify_below a person verifies first',
    COMMENT COLUMN object_count 'number of people or objects detected',
    COMMENT COLUMN detected_at 'when the camera detected it (event time)',
    COMMENT COLUMN lon 'longitude of the camera (WGS84)',
    COMMENT COLUMN lat 'latitude of the camera (WGS84)',
    COMMENT COLUMN snapshot_sha256 'SHA-256 of the snapshot image, kept outside the warehouse',
    COMMENT COLUMN source_topic 'the Kafka topic the row was read from',
    COMMENT COLUMN source_partition 'the Kafka partition the row was read from',
    COMMENT COLUMN source_offset 'the Kafka offset the row was read from',
    COMMENT COLUMN raw 'the message as received (JSON); dropped after 90 days where the engine can expire columns',
    COMMENT COLUMN ingested_at 'when the sink landed the row (wall clock, not event time)';

ALTER TABLE {db}.dispositions
    COMMENT COLUMN event_id 'message id of the disposition (redeliveries share it)',
    COMMENT COLUMN message_status 'actual for real-world data, exercise for simulated or replayed data',
    COMMENT COLUMN incident_id 'the incident acted on; join incidents_latest.incident_id',
    COMMENT COLUMN grid_code 'the 15-digit code of the grid of the incident',
    COMMENT COLUMN township_code 'the 9-digit code of the township of the incident',
    COMMENT COLUMN county_code 'the 6-digit code of the county of the incident',
    COMMENT COLUMN unit_code 'the unit that acted; join units.code for names',
    COMMENT COLUMN unit_level 'the level of the unit that acted',
    COMMENT COLUMN action 'what the unit did: accept, dispatch, progress, resolve, verify, reopen, request_escalation, reject_false_alarm',
    COMMENT COLUMN at 'when the unit acted (event time)',
    COMMENT COLUMN note 'free text of the handler (personal data masked)',
    COMMENT COLUMN body 'the body that acted, unit:kind (schemas/data/bodies.toml)',
    COMMENT COLUMN outcome 'on a resolution or referral: mediated, litigated, arbitrated, referred or handled',
    COMMENT COLUMN source_topic 'the Kafka topic the row was read from',
    COMMENT COLUMN source_partition 'the Kafka partition the row was read from',
    COMMENT COLUMN source_offset 'the Kafka offset the row was read from',
    COMMENT COLUMN raw 'the message as received (JSON); dropped after 90 days where the engine can expire columns',
    COMMENT COLUMN ingested_at 'when the sink landed the row (wall clock, not event time)';

ALTER TABLE {db}.incidents
    COMMENT COLUMN incident_id 'the incident (one matter, possibly merged from several reports and alarms)',
    COMMENT COLUMN message_status 'actual for real-world data, exercise for simulated or replayed data',
    COMMENT COLUMN category 'the taxonomy category code; join categories.code for names',
    COMMENT COLUMN severity 'severity 1 to 5 (classification rules C-, upgrades E-UPG-)',
    COMMENT COLUMN level 'the level handling it now: grid, village, township, county or city',
    COMMENT COLUMN handling_unit 'the code of the unit handling it now; join units.code for names',
    COMMENT COLUMN grid_code 'the 15-digit code of the grid where it happened',
    COMMENT COLUMN township_code 'the 9-digit code of the township where it happened',
    COMMENT COLUMN county_code 'the 6-digit code of the county where it happened',
    COMMENT COLUMN status 'pending_verification, open, in_progress, resolved, closed, false_alarm or merged',
    COMMENT COLUMN source_event_ids 'the reports and alarms merged into it (event_id)',
    COMMENT COLUMN opened_at 'when it was opened (event time of its first evidence)',
    COMMENT COLUMN due_at 'the deadline of the SLA clock running now at its level; null once settled',
    COMMENT COLUMN resolved_at 'when it was resolved; null while unresolved',
    COMMENT COLUMN updated_at 'event time of this version',
    COMMENT COLUMN version 'version of the incident; the highest wins (incidents_latest)',
    COMMENT COLUMN reasons 'every rule id that shaped it, in order; join rules.rule_id',
    COMMENT COLUMN overdue '1 when unresolved past the city deadline, or a severity-5 matter not acknowledged in time (docs/policy.md)',
    COMMENT COLUMN reopen_count 'how often a settlement did not hold (reopened)',
    COMMENT COLUMN merged_into 'the incident it was merged into, if it was',
    COMMENT COLUMN notified_units 'units told besides the handler (the county of a severity-5 matter)',
    COMMENT COLUMN policy_version 'the policy it was decided under, name/version; join rules and policy_parameters',
    COMMENT COLUMN lead_body 'the body leading at the current level, unit:kind (多元化解)',
    COMMENT COLUMN co_bodies 'the co-handling bodies at the current level',
    COMMENT COLUMN body_rule 'the handling rule (H-) that chose the bodies; join rules.rule_id',
    COMMENT COLUMN ingested_at 'when the sink landed the row (wall clock, not event time)';

ALTER TABLE {db}.transitions
    COMMENT COLUMN transition_id 'the transition (one change of level or status)',
    COMMENT COLUMN message_status 'actual for real-world data, exercise for simulated or replayed data',
    COMMENT COLUMN incident_id 'the incident that changed; join incidents_latest.incident_id',
    COMMENT COLUMN seq 'number of the transition within its incident, from 1',
    COMMENT COLUMN from_status 'status before (null for the opening transition)',
    COMMENT COLUMN to_status 'status after',
    COMMENT COLUMN from_level 'level before (null for the opening transition)',
    COMMENT COLUMN to_level 'level after',
    COMMENT COLUMN reason 'why: initial_routing, sla_breach, severity_upgrade, repeat_dispute, cluster, handler_request, merge, false_alarm, disposition, reopen',
    COMMENT COLUMN at 'when it happened (event time)',
    COMMENT COLUMN rule_ids 'the rules that fired; join rules.rule_id (arrayJoin first)',
    COMMENT COLUMN source_event_id 'the report, alarm or disposition that caused it, if any',
    COMMENT COLUMN handling_unit 'the code of the unit handling it afterwards; join units.code for names',
    COMMENT COLUMN notified_units 'units told besides the handler (the county of a severity-5 matter)',
    COMMENT COLUMN policy_version 'the policy it was decided under, name/version',
    COMMENT COLUMN lead_body 'the body leading afterwards, unit:kind (多元化解)',
    COMMENT COLUMN co_bodies 'the co-handling bodies afterwards',
    COMMENT COLUMN body_rule 'the handling rule (H-) that chose the bodies; join rules.rule_id',
    COMMENT COLUMN ingested_at 'when the sink landed the row (wall clock, not event time)';

ALTER TABLE {db}.dead_letters
    COMMENT COLUMN dead_letter_id 'the dead letter',
    COMMENT COLUMN message_status 'actual for real-world data, exercise for simulated or replayed data',
    COMMENT COLUMN source_topic 'the topic the rejected record came from',
    COMMENT COLUMN source_partition 'the partition the rejected record came from',
    COMMENT COLUMN source_offset 'the offset of the rejected record',
    COMMENT COLUMN raw_base64 'the rejected bytes, base64',
    COMMENT COLUMN raw_preview 'the start of the rejected bytes as text, for reading',
    COMMENT COLUMN raw_size 'size of the rejected record in bytes',
    COMMENT COLUMN error_class 'why it was rejected: decode_error, unknown_incident, invalid_disposition, unclassifiable, late_event, future_event, …',
    COMMENT COLUMN error_message 'the error in words',
    COMMENT COLUMN processed_at 'when the stream rejected it (wall clock)',
    COMMENT COLUMN ingested_at 'when the sink landed the row (wall clock)';

ALTER TABLE {db}.county_alerts
    COMMENT COLUMN alert_id 'the county alert',
    COMMENT COLUMN message_status 'actual for real-world data, exercise for simulated or replayed data',
    COMMENT COLUMN county_code 'the 6-digit code of the county; join units.code for names',
    COMMENT COLUMN category 'the category clustering; join categories.code for names',
    COMMENT COLUMN townships 'the townships that signalled a cluster (9-digit codes)',
    COMMENT COLUMN signal_ids 'the township cluster signals it was raised from',
    COMMENT COLUMN window_start 'start of the cluster window (event time)',
    COMMENT COLUMN at 'when it was raised (event time)',
    COMMENT COLUMN rule_id 'the rule that raised it (K-CLU-001); join rules.rule_id',
    COMMENT COLUMN policy_version 'the policy it was decided under, name/version',
    COMMENT COLUMN ingested_at 'when the sink landed the row (wall clock, not event time)';

ALTER TABLE {db}.intake_hourly
    COMMENT COLUMN hour 'the hour of event time',
    COMMENT COLUMN kind 'grid_report, camera_alert or disposition',
    COMMENT COLUMN county_code 'the 6-digit code of the county',
    COMMENT COLUMN category 'the category code (empty for dispositions)',
    COMMENT COLUMN events 'distinct event ids: read with uniqExactMerge(events)';

ALTER TABLE {db}.categories
    COMMENT COLUMN code 'the category code the facts carry, e.g. neighbour',
    COMMENT COLUMN name_zh 'the Chinese name, e.g. 邻里纠纷',
    COMMENT COLUMN name_en 'the English name',
    COMMENT COLUMN category_group 'the taxonomy group, e.g. dispute, public_safety',
    COMMENT COLUMN base_severity 'the severity 1 to 5 a report of it starts from';

ALTER TABLE {db}.schema_version
    COMMENT COLUMN version 'the migration number (sinks/migrations/NNNN_name.sql)',
    COMMENT COLUMN name 'the migration name',
    COMMENT COLUMN checksum 'SHA-256 of the migration file as applied',
    COMMENT COLUMN engine_version 'the ClickHouse version it was applied on',
    COMMENT COLUMN applied_at 'when it was applied (wall clock)';

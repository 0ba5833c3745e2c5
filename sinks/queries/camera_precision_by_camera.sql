-- Question: How precise is each camera: of the incidents its alarms raised, how many were real?
-- Counted per incident holding the camera's alarms (source_event_ids of a non-merged incident, so alarms
-- merged into one incident count once): false_alarm counts against the camera, pending_verification is
-- undecided, any other status confirms. precision = confirmed / (confirmed + false_alarms), NULL while
-- nothing is decided. Same definition as streams/core/kpis.py (camera_precision).
SELECT
    camera_id,
    uniqExact(incident_id) AS incidents,
    uniqExactIf(incident_id, verdict = 'confirmed') AS confirmed,
    uniqExactIf(incident_id, verdict = 'false_alarm') AS false_alarms,
    uniqExactIf(incident_id, verdict = 'undecided') AS undecided,
    if(confirmed + false_alarms = 0, NULL, round(confirmed / (confirmed + false_alarms), 4)) AS precision
FROM
(
    SELECT event_id, CAST(camera_id AS String) AS camera_id
    FROM {db}.camera_alerts_distinct
) AS alarms
ALL INNER JOIN
(
    SELECT
        arrayJoin(source_event_ids) AS event_id,
        incident_id,
        multiIf(status = 'false_alarm', 'false_alarm', status = 'pending_verification', 'undecided', 'confirmed')
            AS verdict
    FROM {db}.incidents_latest
    WHERE status != 'merged'
) AS holders USING (event_id)
GROUP BY camera_id
ORDER BY camera_id

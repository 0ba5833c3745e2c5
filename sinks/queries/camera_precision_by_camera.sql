-- Question: How precise is each camera: of its decided alarms, how many were real?
-- An alarm is decided by the incident that holds it (source_event_ids of a non-merged incident): false_alarm
-- counts against the camera, pending_verification or no incident yet is undecided, any other status
-- confirms it. precision = confirmed / (confirmed + false_alarms).
SELECT
    camera_id,
    count() AS alarms,
    countIf(incident_status NOT IN ('', 'pending_verification', 'false_alarm')) AS confirmed,
    countIf(incident_status = 'false_alarm') AS false_alarms,
    countIf(incident_status IN ('', 'pending_verification')) AS undecided,
    round(if(confirmed + false_alarms = 0, 0, confirmed / (confirmed + false_alarms)), 4) AS precision
FROM
(
    SELECT event_id, CAST(camera_id AS String) AS camera_id
    FROM {db}.camera_alerts_distinct
) AS alarms
ANY LEFT JOIN
(
    SELECT arrayJoin(source_event_ids) AS event_id, toString(status) AS incident_status
    FROM {db}.incidents_latest
    WHERE status != 'merged'
) AS verdicts USING (event_id)
GROUP BY camera_id
ORDER BY camera_id

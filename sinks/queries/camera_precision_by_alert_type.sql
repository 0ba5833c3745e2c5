-- Question: How precise is each camera alarm type: of the incidents its alarms raised, how many were real?
-- As camera_precision_by_camera, grouped by the alarm type: counted per incident holding alarms of the
-- type; false_alarm counts against, pending_verification is undecided, any other status confirms.
SELECT
    alert_type,
    uniqExact(incident_id) AS incidents,
    uniqExactIf(incident_id, verdict = 'confirmed') AS confirmed,
    uniqExactIf(incident_id, verdict = 'false_alarm') AS false_alarms,
    uniqExactIf(incident_id, verdict = 'undecided') AS undecided,
    if(confirmed + false_alarms = 0, NULL, round(confirmed / (confirmed + false_alarms), 4)) AS precision
FROM
(
    SELECT event_id, toString(alert_type) AS alert_type
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
GROUP BY alert_type
ORDER BY alert_type

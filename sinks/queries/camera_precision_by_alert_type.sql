-- Question: How precise is each camera alarm type: of its decided alarms, how many were real?
-- Same verdicts as camera_precision_by_camera: false_alarm counts against, pending_verification or no
-- incident is undecided, any other status of the holding incident confirms.
SELECT
    alert_type,
    count() AS alarms,
    countIf(incident_status NOT IN ('', 'pending_verification', 'false_alarm')) AS confirmed,
    countIf(incident_status = 'false_alarm') AS false_alarms,
    countIf(incident_status IN ('', 'pending_verification')) AS undecided,
    round(if(confirmed + false_alarms = 0, 0, confirmed / (confirmed + false_alarms)), 4) AS precision
FROM
(
    SELECT event_id, toString(alert_type) AS alert_type
    FROM {db}.camera_alerts_distinct
) AS alarms
ANY LEFT JOIN
(
    SELECT arrayJoin(source_event_ids) AS event_id, toString(status) AS incident_status
    FROM {db}.incidents_latest
    WHERE status != 'merged'
) AS verdicts USING (event_id)
GROUP BY alert_type
ORDER BY alert_type

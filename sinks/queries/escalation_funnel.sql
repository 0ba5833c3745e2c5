-- Question: How do incidents move up the five levels (the escalation funnel)?
-- Per level: entered = incidents that were at this level at some point; escalated_onward = incidents that
-- moved from this level to a higher one; settled_here = incidents settled (resolved or closed) at this
-- level. Every level is listed, with zeros where nothing happened. Matters only: incidents except false
-- alarms, merged-away incidents and alarms awaiting verification.
SELECT
    level,
    ['grid', 'village', 'township', 'county', 'city'][level] AS level_name,
    uniqExactIf(incident_id, step = 'entered') AS entered,
    uniqExactIf(incident_id, step = 'escalated') AS escalated_onward,
    uniqExactIf(incident_id, step = 'settled') AS settled_here
FROM
(
    SELECT incident_id, toUInt8(to_level) AS level, 'entered' AS step
    FROM {db}.transitions_distinct
    WHERE incident_id IN (
        SELECT incident_id FROM {db}.incidents_latest
        WHERE status NOT IN ('merged', 'false_alarm', 'pending_verification')
    )
    UNION ALL
    SELECT incident_id, toUInt8(assumeNotNull(from_level)) AS level, 'escalated' AS step
    FROM {db}.transitions_distinct
    WHERE from_level IS NOT NULL
        AND toUInt8(to_level) > toUInt8(assumeNotNull(from_level))
        AND incident_id IN (
            SELECT incident_id FROM {db}.incidents_latest
            WHERE status NOT IN ('merged', 'false_alarm', 'pending_verification')
        )
    UNION ALL
    SELECT incident_id, toUInt8(level) AS level, 'settled' AS step
    FROM {db}.incidents_latest
    WHERE status IN ('resolved', 'closed')
    UNION ALL
    SELECT toUUID('00000000-0000-0000-0000-000000000000') AS incident_id, arrayJoin([1, 2, 3, 4, 5]) AS level, 'level' AS step
)
GROUP BY level
ORDER BY level

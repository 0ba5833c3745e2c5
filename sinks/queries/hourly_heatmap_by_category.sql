-- Question: At which hours of the day do incidents of each category arise (heatmap)?
-- Incidents by category and local hour (Asia/Shanghai, 0-23) of opened_at; empty cells are omitted.
-- Matters only: incidents except false alarms, merged-away incidents and alarms awaiting verification.
SELECT
    CAST(category AS String) AS category,
    toHour(opened_at) AS hour,
    count() AS incidents
FROM {db}.incidents_latest
WHERE status NOT IN ('merged', 'false_alarm', 'pending_verification')
GROUP BY category, hour
ORDER BY category, hour

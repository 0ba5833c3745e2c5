-- Question: How many distinct reports, camera alarms and dispositions came in per hour and county?
-- Read from the intake_hourly aggregate (kept by materialized views at insert time; exact under
-- redelivery because it merges sets of event ids). Hours are local (Asia/Shanghai).
SELECT
    hour,
    kind,
    county_code,
    uniqExactMerge(events) AS events
FROM {db}.intake_hourly
GROUP BY hour, kind, county_code
ORDER BY hour, kind, county_code

-- Question: How many distinct reports, camera alarms and dispositions came in per hour and county?
-- Read from the intake_hourly aggregate (kept by materialized views at insert time; exact under
-- redelivery because it merges sets of event ids). Hours are local (Asia/Shanghai).
-- County names (Chinese, pinyin) from the units table, which `gridflow init` fills.
SELECT
    hour,
    kind,
    county_code,
    county_name,
    county_pinyin,
    events
FROM
(
    SELECT
        hour,
        kind,
        county_code,
        uniqExactMerge(events) AS events
    FROM {db}.intake_hourly
    GROUP BY hour, kind, county_code
) AS step0
ANY LEFT JOIN
(
    SELECT code AS county_code, name AS county_name, name_pinyin AS county_pinyin FROM {db}.units
) AS names0 USING (county_code)
ORDER BY hour, kind, county_code

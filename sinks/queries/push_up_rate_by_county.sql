-- Question: Per county, what share of matters was pushed up to county or city level (上交率)?
-- Matters: incidents except false alarms, merged-away incidents and alarms awaiting verification.
-- pushed_up: a transition moved the incident from below county to county or city after it opened (an SLA
-- breach, a handler request, a cluster or a severity upgrade); at_county_or_city also counts incidents
-- routed there directly. Same definitions as streams/core/kpis.py (push_up_rate, county_city_share).
-- County names (Chinese, pinyin) from the units table, which `gridflow init` fills.
SELECT
    county_code,
    county_name,
    county_pinyin,
    incidents,
    at_county_or_city,
    pushed_up,
    push_up_rate
FROM
(
    SELECT
        county_code,
        count() AS incidents,
        countIf(level_code >= 4) AS at_county_or_city,
        countIf(pushed = 1) AS pushed_up,
        if(incidents = 0, NULL, round(pushed_up / incidents, 4)) AS push_up_rate
    FROM
    (
        SELECT incident_id, CAST(county_code AS String) AS county_code, toUInt8(level) AS level_code
        FROM {db}.incidents_latest
        WHERE status NOT IN ('merged', 'false_alarm', 'pending_verification')
    ) AS matters
    ANY LEFT JOIN
    (
        SELECT incident_id, 1 AS pushed
        FROM {db}.transitions_distinct
        WHERE reason IN ('sla_breach', 'handler_request', 'cluster', 'severity_upgrade')
            AND from_level IS NOT NULL
            AND toUInt8(assumeNotNull(from_level)) < 4
            AND toUInt8(to_level) >= 4
        GROUP BY incident_id
    ) AS pushes USING (incident_id)
    GROUP BY county_code
) AS per_county
ANY LEFT JOIN
(
    SELECT code AS county_code, name AS county_name, name_pinyin AS county_pinyin FROM {db}.units
) AS counties USING (county_code)
ORDER BY county_code

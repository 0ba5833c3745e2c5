-- Question: Per county, what share of incidents was pushed up to county or city level (上交率)?
-- pushed_up: the incident now sits at county or city level but entered the chain below county (its first
-- transition routed it to grid, village or township). at_county_or_city also counts incidents routed there
-- directly (severity 4-5). Merged incidents and false alarms are left out.
SELECT
    county_code,
    count() AS incidents,
    countIf(level_code >= 4) AS at_county_or_city,
    countIf(level_code >= 4 AND if(first_level = 0, level_code, first_level) < 4) AS pushed_up,
    round(if(incidents = 0, 0, pushed_up / incidents), 4) AS push_up_rate
FROM
(
    SELECT incident_id, CAST(county_code AS String) AS county_code, toUInt8(level) AS level_code
    FROM {db}.incidents_latest
    WHERE status NOT IN ('merged', 'false_alarm')
) AS live
ANY LEFT JOIN
(
    SELECT incident_id, min(toUInt8(to_level)) AS first_level
    FROM {db}.transitions_distinct
    GROUP BY incident_id
) AS entry USING (incident_id)
GROUP BY county_code
ORDER BY county_code

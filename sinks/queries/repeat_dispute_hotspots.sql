-- Question: Where do disputes keep coming back (矛盾反复 hotspots)?
-- Grid and category pairs with repeat_dispute escalations, most first; incidents and last_opened_at count
-- the matters there (incidents except false alarms, merged-away incidents and alarms awaiting
-- verification). Same ranking as streams/core/kpis.py (repeat_hotspots).
SELECT
    grid_code,
    any(township_code) AS township_code,
    any(county_code) AS county_code,
    category,
    sum(repeats) AS repeat_escalations,
    countIf(is_matter = 1) AS incidents,
    maxIf(opened_at, is_matter = 1) AS last_opened_at
FROM
(
    SELECT
        incident_id,
        CAST(grid_code AS String) AS grid_code,
        CAST(township_code AS String) AS township_code,
        CAST(county_code AS String) AS county_code,
        CAST(category AS String) AS category,
        opened_at,
        status NOT IN ('merged', 'false_alarm', 'pending_verification') AS is_matter
    FROM {db}.incidents_latest
) AS incidents
ANY LEFT JOIN
(
    SELECT incident_id, countIf(reason = 'repeat_dispute') AS repeats
    FROM {db}.transitions_distinct
    GROUP BY incident_id
) AS repeat_counts USING (incident_id)
GROUP BY grid_code, category
HAVING repeat_escalations > 0
ORDER BY repeat_escalations DESC, grid_code, category
LIMIT 50

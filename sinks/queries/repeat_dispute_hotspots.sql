-- Question: Where do disputes keep coming back (矛盾反复 hotspots)?
-- Grid and category pairs with at least two incidents, or with any repeat_dispute escalation, ranked by
-- repeat escalations and then by incidents. Merged incidents and false alarms are left out.
SELECT
    grid_code,
    any(township_code) AS township_code,
    any(county_code) AS county_code,
    category,
    count() AS incidents,
    sum(repeat_escalations) AS repeat_escalations_total,
    max(opened_at) AS last_opened_at
FROM
(
    SELECT
        incident_id,
        CAST(grid_code AS String) AS grid_code,
        CAST(township_code AS String) AS township_code,
        CAST(county_code AS String) AS county_code,
        CAST(category AS String) AS category,
        opened_at
    FROM {db}.incidents_latest
    WHERE status NOT IN ('merged', 'false_alarm')
) AS live
ANY LEFT JOIN
(
    SELECT incident_id, countIf(reason = 'repeat_dispute') AS repeat_escalations
    FROM {db}.transitions_distinct
    GROUP BY incident_id
) AS repeats USING (incident_id)
GROUP BY grid_code, category
HAVING incidents >= 2 OR repeat_escalations_total > 0
ORDER BY repeat_escalations_total DESC, incidents DESC, grid_code, category
LIMIT 50

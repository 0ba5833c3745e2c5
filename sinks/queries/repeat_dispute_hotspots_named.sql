-- Question: Which named townships and counties do disputes keep coming back to (矛盾反复)?
-- The ranking of repeat_dispute_hotspots.sql, with names from the units and categories tables (migration
-- 0006, filled by `gridflow init`). One JOIN per SELECT, so it also runs on ClickHouse 18.16.
SELECT
    township_name,
    county_name,
    category_name,
    grid_code,
    township_code,
    category,
    repeat_escalations,
    incidents
FROM
(
    SELECT *
    FROM
    (
        SELECT *
        FROM
        (
            SELECT
                grid_code,
                any(township_code) AS township_code,
                any(county_code) AS county_code,
                category,
                sum(repeats) AS repeat_escalations,
                countIf(is_matter = 1) AS incidents
            FROM
            (
                SELECT
                    incident_id,
                    CAST(grid_code AS String) AS grid_code,
                    CAST(township_code AS String) AS township_code,
                    CAST(county_code AS String) AS county_code,
                    CAST(category AS String) AS category,
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
        ) AS hotspots
        ANY LEFT JOIN
        (
            SELECT code AS township_code, name AS township_name FROM {db}.units
        ) AS townships USING (township_code)
    ) AS with_township
    ANY LEFT JOIN
    (
        SELECT code AS county_code, name AS county_name FROM {db}.units
    ) AS counties USING (county_code)
) AS with_county
ANY LEFT JOIN
(
    SELECT code AS category, name_zh AS category_name FROM {db}.categories
) AS names USING (category)
ORDER BY repeat_escalations DESC, grid_code, category
LIMIT 50

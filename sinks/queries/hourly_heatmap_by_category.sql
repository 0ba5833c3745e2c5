-- Question: At which hours of the day do incidents of each category arise (heatmap)?
-- Incidents by category and local hour (Asia/Shanghai, 0-23) of opened_at; empty cells are omitted.
-- Matters only: incidents except false alarms, merged-away incidents and alarms awaiting verification.
-- Category names from the categories table, which `gridflow init` fills.
SELECT
    category,
    category_name,
    category_name_en,
    hour,
    incidents
FROM
(
    SELECT
        CAST(category AS String) AS category,
        toHour(opened_at) AS hour,
        count() AS incidents
    FROM {db}.incidents_latest
    WHERE status NOT IN ('merged', 'false_alarm', 'pending_verification')
    GROUP BY category, hour
) AS step0
ANY LEFT JOIN
(
    SELECT code AS category, name_zh AS category_name, name_en AS category_name_en FROM {db}.categories
) AS names0 USING (category)
ORDER BY category, hour

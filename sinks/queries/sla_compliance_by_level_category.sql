-- Question: How often is the SLA kept at each level, per category?
-- A matter held a clock at a level when a transition left it there in a running status (pending
-- verification, open, in progress); it breached there on an sla_breach transition leaving that level or an
-- overdue transition at the city. compliance = share of held clocks not breached, running ones counting
-- as kept. Matters: incidents except false alarms, merged-away incidents and alarms awaiting verification.
-- Same definition as streams/core/kpis.py (sla_compliance), broken down by category.
-- Category names from the categories table, which `gridflow init` fills.
SELECT
    level,
    level_name,
    category,
    category_name,
    category_name_en,
    held,
    breached_count,
    compliance
FROM
(
    SELECT
        level,
        ['grid', 'village', 'township', 'county', 'city'][level] AS level_name,
        category,
        count() AS held,
        sum(breached) AS breached_count,
        round(1 - breached_count / held, 4) AS compliance
    FROM
    (
        SELECT incident_id, level, max(is_held) AS held_here, max(is_breach) AS breached
        FROM
        (
            SELECT incident_id, toUInt8(to_level) AS level, 1 AS is_held, 0 AS is_breach
            FROM {db}.transitions_distinct
            WHERE to_status IN ('pending_verification', 'open', 'in_progress')
            UNION ALL
            SELECT
                incident_id,
                if(reason = 'overdue', toUInt8(to_level), toUInt8(assumeNotNull(from_level))) AS level,
                0 AS is_held,
                1 AS is_breach
            FROM {db}.transitions_distinct
            WHERE reason = 'overdue' OR (reason = 'sla_breach' AND from_level IS NOT NULL)
        )
        GROUP BY incident_id, level
        HAVING held_here = 1
    ) AS clocks
    ALL INNER JOIN
    (
        SELECT incident_id, CAST(category AS String) AS category
        FROM {db}.incidents_latest
        WHERE status NOT IN ('merged', 'false_alarm', 'pending_verification')
    ) AS matters USING (incident_id)
    GROUP BY level, category
) AS step0
ANY LEFT JOIN
(
    SELECT code AS category, name_zh AS category_name, name_en AS category_name_en FROM {db}.categories
) AS names0 USING (category)
ORDER BY level, category

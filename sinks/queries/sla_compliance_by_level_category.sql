-- Question: How often is the SLA kept at each level, per category?
-- Every (incident, level) the incident entered is one handling; it is breached when the SLA ran out there:
-- an sla_breach transition leaving that level, or an overdue transition at the city. compliance is the
-- share of handlings without a breach so far. Merged incidents and false alarms are left out.
SELECT
    level,
    ['grid', 'village', 'township', 'county', 'city'][level] AS level_name,
    category,
    count() AS handled,
    sum(breached) AS breached_count,
    round(if(handled = 0, 0, 1 - breached_count / handled), 4) AS compliance
FROM
(
    SELECT incident_id, level, max(is_breach) AS breached
    FROM
    (
        SELECT incident_id, toUInt8(to_level) AS level, 0 AS is_breach
        FROM {db}.transitions_distinct
        UNION ALL
        SELECT
            incident_id,
            if(reason = 'overdue', toUInt8(to_level), toUInt8(assumeNotNull(from_level))) AS level,
            1 AS is_breach
        FROM {db}.transitions_distinct
        WHERE reason IN ('sla_breach', 'overdue')
    )
    GROUP BY incident_id, level
) AS handlings
ALL INNER JOIN
(
    SELECT incident_id, CAST(category AS String) AS category
    FROM {db}.incidents_latest
    WHERE status NOT IN ('merged', 'false_alarm')
) AS live USING (incident_id)
GROUP BY level, category
ORDER BY level, category

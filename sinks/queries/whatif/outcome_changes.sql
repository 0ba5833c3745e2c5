-- Question: Which incidents ended differently under the alternative policy (status or level), first 50?
-- Two what-if databases ({base}, {alt}); incidents are matched by id (ids derive from the first source event,
-- so the same input gives the same ids under any policy).
SELECT
    incident_id,
    toString(base_status) AS base_status,
    toUInt8(base_level) AS base_level,
    toString(alt_status) AS alt_status,
    toUInt8(alt_level) AS alt_level
FROM
(
    SELECT incident_id, status AS base_status, level AS base_level FROM {base}.incidents_latest
)
ALL INNER JOIN
(
    SELECT incident_id, status AS alt_status, level AS alt_level FROM {alt}.incidents_latest
)
USING incident_id
WHERE toString(base_status) != toString(alt_status) OR toUInt8(base_level) != toUInt8(alt_level)
ORDER BY incident_id
LIMIT 50

-- Question: At which level were matters settled under the base policy and under the alternative?
-- Two what-if databases ({base}, {alt}). Settled: latest status resolved or closed; the level is the one the
-- matter had when it was settled (levels never go down), as in share_settled_village.sql.
SELECT
    level,
    base_settled,
    alt_settled,
    toInt64(alt_settled) - toInt64(base_settled) AS difference
FROM
(
    SELECT toUInt8(level) AS level, count() AS base_settled
    FROM {base}.incidents_latest WHERE status IN ('resolved', 'closed') GROUP BY level
)
ALL FULL OUTER JOIN
(
    SELECT toUInt8(level) AS level, count() AS alt_settled
    FROM {alt}.incidents_latest WHERE status IN ('resolved', 'closed') GROUP BY level
)
USING level
ORDER BY level

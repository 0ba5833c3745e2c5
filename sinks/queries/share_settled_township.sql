-- Question: What share of settled matters were settled at or below township level (大事不出镇)?
-- Settled: latest status resolved or closed; the level is the one the incident had when it was settled.
-- share is NULL when nothing is settled. Same definition as streams/core/kpis.py.
SELECT
    count() AS settled,
    countIf(level IN ('grid', 'village', 'township')) AS settled_at_or_below_township,
    if(settled = 0, NULL, round(settled_at_or_below_township / settled, 4)) AS share
FROM {db}.incidents_latest
WHERE status IN ('resolved', 'closed')

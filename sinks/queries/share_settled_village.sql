-- Question: What share of settled matters were settled at grid or village level (小事不出村)?
-- Settled: latest status resolved or closed. The level is the one the incident had when it was settled
-- (levels never go down). share is NULL when nothing is settled. Same definition as streams/core/kpis.py.
SELECT
    count() AS settled,
    countIf(level IN ('grid', 'village')) AS settled_at_grid_or_village,
    if(settled = 0, NULL, round(settled_at_grid_or_village / settled, 4)) AS share
FROM {db}.incidents_latest
WHERE status IN ('resolved', 'closed')

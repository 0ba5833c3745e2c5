-- Question: What share of settled incidents were settled at grid or village level (小事不出村)?
-- Settled: latest status resolved or closed. The level is the one the incident had when it was settled
-- (levels never go down). Merged incidents and false alarms are not matters of their own and are left out.
SELECT
    count() AS settled,
    countIf(level IN ('grid', 'village')) AS settled_at_grid_or_village,
    round(if(settled = 0, 0, settled_at_grid_or_village / settled), 4) AS share
FROM {db}.incidents_latest
WHERE status IN ('resolved', 'closed')

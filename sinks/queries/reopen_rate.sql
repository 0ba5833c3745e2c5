-- Question: How often is a matter reported settled and then reopened (false closures)?
-- Over matters ever resolved (now resolved or closed, or reopened at least once): the share reopened, and
-- the number of reopenings. Matters: incidents except false alarms, merged-away incidents and alarms
-- awaiting verification. Same definition as streams/core/kpis.py (reopen_rate).
SELECT
    count() AS ever_resolved,
    countIf(reopen_count > 0) AS reopened,
    sum(reopen_count) AS reopenings,
    if(ever_resolved = 0, NULL, round(reopened / ever_resolved, 4)) AS reopen_rate
FROM {db}.incidents_latest
WHERE status NOT IN ('merged', 'false_alarm', 'pending_verification')
    AND (status IN ('resolved', 'closed') OR reopen_count > 0)

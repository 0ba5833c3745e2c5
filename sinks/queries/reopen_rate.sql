-- Question: How often is an incident reported settled and then reopened (false closures)?
-- Over incidents that were resolved or closed at least once: the share reopened at least once, and the
-- number of reopen transitions.
SELECT
    count() AS settled_incidents,
    countIf(reopens > 0) AS reopened_incidents,
    sum(reopens) AS reopens_total,
    round(if(settled_incidents = 0, 0, reopened_incidents / settled_incidents), 4) AS reopen_rate
FROM
(
    SELECT
        incident_id,
        countIf(to_status IN ('resolved', 'closed')) AS settlements,
        countIf(reason = 'reopen') AS reopens
    FROM {db}.transitions_distinct
    GROUP BY incident_id
)
WHERE settlements > 0

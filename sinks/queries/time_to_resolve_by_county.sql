-- Question: How long does it take to settle an incident, p50 and p90 in hours, per county?
-- From opened_at to resolved_at of incidents whose latest status is resolved or closed. Quantiles are exact:
-- the value at position floor(q * n) of the sorted durations (0-based), so they are real observed times.
SELECT
    county_code,
    count() AS resolved,
    round(quantileExact(0.5)(hours), 2) AS p50_hours,
    round(quantileExact(0.9)(hours), 2) AS p90_hours
FROM
(
    SELECT
        CAST(county_code AS String) AS county_code,
        dateDiff('second', opened_at, assumeNotNull(resolved_at)) / 3600 AS hours
    FROM {db}.incidents_latest
    WHERE status IN ('resolved', 'closed') AND resolved_at IS NOT NULL
)
GROUP BY county_code
ORDER BY county_code

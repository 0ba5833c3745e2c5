-- Question: How long does it take to settle a matter, p50 and p90 in hours, per county?
-- From opened_at to resolved_at (the first resolution, kept when a matter is reopened) of matters that have
-- one. Percentiles are nearest-rank: the smallest duration with at least p% of durations at or below it,
-- so they are real observed times. Same definition as streams/core/kpis.py (resolve_p50/p90), per county.
-- County names (Chinese, pinyin) from the units table, which `gridflow init` fills.
SELECT
    county_code,
    county_name,
    county_pinyin,
    resolved,
    p50_hours,
    p90_hours
FROM
(
    SELECT
        county_code,
        count() AS resolved,
        round(arraySort(groupArray(hours))[toUInt64(ceil(0.5 * resolved))], 2) AS p50_hours,
        round(arraySort(groupArray(hours))[toUInt64(ceil(0.9 * resolved))], 2) AS p90_hours
    FROM
    (
        SELECT
            CAST(county_code AS String) AS county_code,
            dateDiff('second', opened_at, assumeNotNull(resolved_at)) / 3600 AS hours
        FROM {db}.incidents_latest
        WHERE status NOT IN ('merged', 'false_alarm', 'pending_verification') AND resolved_at IS NOT NULL
    )
    GROUP BY county_code
) AS per_county
ANY LEFT JOIN
(
    SELECT code AS county_code, name AS county_name, name_pinyin AS county_pinyin FROM {db}.units
) AS counties USING (county_code)
ORDER BY county_code

-- Question: How many camera alarms still await verification, and how many of those tasks are overdue?
-- A low-confidence alarm is a verification task for the grid member with its own SLA (policy.toml
-- verification_sla): a breach hands it once to the village, a second one marks it overdue; it never climbs
-- further unverified. Same definition as streams/core/kpis.py (verification_pending/_overdue), per county.
-- County names (Chinese, pinyin) from the units table, which `gridflow init` fills.
SELECT
    county_code,
    county_name,
    county_pinyin,
    awaiting_verification,
    overdue,
    handed_to_village
FROM
(
    SELECT
        CAST(county_code AS String) AS county_code,
        count() AS awaiting_verification,
        countIf(overdue = 1) AS overdue,
        countIf(toUInt8(level) = 2) AS handed_to_village
    FROM {db}.incidents_latest
    WHERE status = 'pending_verification'
    GROUP BY county_code
) AS per_county
ANY LEFT JOIN
(
    SELECT code AS county_code, name AS county_name, name_pinyin AS county_pinyin FROM {db}.units
) AS counties USING (county_code)
ORDER BY county_code

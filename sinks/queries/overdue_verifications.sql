-- Question: How many camera alarms still await verification, and how many of those tasks are overdue?
-- A low-confidence alarm is a verification task for the grid member with its own SLA (policy.toml
-- verification_sla): a breach hands it once to the village, a second one marks it overdue; it never climbs
-- further unverified. Same definition as streams/core/kpis.py (verification_pending/_overdue), per county.
SELECT
    CAST(county_code AS String) AS county_code,
    count() AS awaiting_verification,
    countIf(overdue = 1) AS overdue,
    countIf(toUInt8(level) = 2) AS handed_to_village
FROM {db}.incidents_latest
WHERE status = 'pending_verification'
GROUP BY county_code
ORDER BY county_code

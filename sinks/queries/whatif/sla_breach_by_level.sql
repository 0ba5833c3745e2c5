-- Question: How many SLA breaches did each level see under the base policy and under the alternative?
-- Two what-if databases ({base}, {alt}: `gridflow whatif --via-kafka` names them whatif_<stamp>_<policy>).
-- Counts sla_breach transitions by the level they left, of real matters only (not false alarms, merged
-- incidents or alarms still awaiting verification), as streams/core/kpis.py and the what-if table do.
SELECT
    level,
    base_breaches,
    alt_breaches,
    toInt64(alt_breaches) - toInt64(base_breaches) AS difference
FROM
(
    SELECT toUInt8(assumeNotNull(from_level)) AS level, count() AS base_breaches
    FROM {base}.transitions_distinct
    WHERE reason = 'sla_breach' AND from_level IS NOT NULL
      AND incident_id IN (
          SELECT incident_id FROM {base}.incidents_latest
          WHERE status NOT IN ('false_alarm', 'merged', 'pending_verification'))
    GROUP BY level
)
ALL FULL OUTER JOIN
(
    SELECT toUInt8(assumeNotNull(from_level)) AS level, count() AS alt_breaches
    FROM {alt}.transitions_distinct
    WHERE reason = 'sla_breach' AND from_level IS NOT NULL
      AND incident_id IN (
          SELECT incident_id FROM {alt}.incidents_latest
          WHERE status NOT IN ('false_alarm', 'merged', 'pending_verification'))
    GROUP BY level
)
USING level
ORDER BY level

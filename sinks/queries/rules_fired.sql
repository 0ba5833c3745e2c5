-- Question: Which rules decided the transitions, how often, and what does each rule say?
-- Every rule id recorded on a transition (rule_ids), counted per policy version, with the rule's family and
-- meaning from the rules table (filled by `gridflow init` from the rule catalogue, per policy version).
-- transitions counts the transitions that recorded the rule, incidents the distinct incidents.
SELECT
    rule_id,
    family,
    meaning,
    policy_version,
    transitions,
    incidents
FROM
(
    SELECT
        rule_id,
        CAST(policy_version AS String) AS policy_version,
        count() AS transitions,
        uniqExact(incident_id) AS incidents
    FROM
    (
        SELECT arrayJoin(rule_ids) AS rule_id, policy_version, incident_id
        FROM {db}.transitions_distinct
    )
    GROUP BY rule_id, policy_version
) AS fired
ANY LEFT JOIN
(
    SELECT rule_id, policy_version, family, meaning FROM {db}.rules
) AS catalogue USING (rule_id, policy_version)
ORDER BY transitions DESC, rule_id, policy_version

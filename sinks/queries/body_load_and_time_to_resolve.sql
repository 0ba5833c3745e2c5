-- Question: How loaded is each handling body, and how fast does it settle (多元化解)?
-- Per body that acted on a matter (dispositions naming a body): the matters it acted on, the matters it
-- settled (a resolve disposition from it) and, over those, the median hours from the incident's opening to
-- its resolution (nearest rank: the smallest duration with at least half at or below it). Bodies are
-- "<unit>:<kind>" (schemas/data/bodies.toml); kind is the part after the colon.
-- The unit of each body (the code before the colon) is named from the units table (`gridflow init`).
SELECT
    body,
    unit_name,
    unit_pinyin,
    kind,
    matters,
    settled,
    p50_hours_to_settle
FROM
(
    SELECT
        body,
        splitByChar(':', body)[1] AS unit_code,
        splitByChar(':', body)[2] AS kind,
        uniqExact(incident_id) AS matters,
        countIf(action = 'resolve') AS settled,
        if(
            settled = 0,
            NULL,
            round(arraySort(groupArrayIf(hours, action = 'resolve'))[toUInt64(ceil(0.5 * settled))], 2)
        ) AS p50_hours_to_settle
    FROM
    (
        SELECT body, incident_id, action, dateDiff('second', opened_at, at) / 3600 AS hours
        FROM
        (
            SELECT CAST(body AS String) AS body, incident_id, CAST(action AS String) AS action, at
            FROM {db}.dispositions_distinct
            WHERE body != ''
        ) AS acts
        ANY LEFT JOIN
        (
            SELECT incident_id, opened_at FROM {db}.incidents_latest
        ) AS matters USING incident_id
    )
    GROUP BY body
) AS per_body
ANY LEFT JOIN
(
    SELECT code AS unit_code, name AS unit_name, name_pinyin AS unit_pinyin FROM {db}.units
) AS units USING (unit_code)
ORDER BY body

-- Question: Of the disputes settled per county and type, how many by mediation and how many by a court?
-- (司法一元 → 社会多元.)
-- Each resolution a body reported (a resolve disposition with an outcome, landed from the 多元化解 fields)
-- counts once: mediated (人民调解, incl. the 行业性专业性 committees), litigated (a court's judgment, after a
-- failed mediation was referred: 诉调对接) or arbitrated (劳动人事争议仲裁). The category is the incident's.
-- mediation_share = mediated / (mediated + litigated + arbitrated).
-- Names from the units and categories tables, which `gridflow init` fills.
SELECT
    county_code,
    county_name,
    county_pinyin,
    category,
    category_name,
    category_name_en,
    settled,
    mediated,
    litigated,
    arbitrated,
    mediation_share
FROM
(
    SELECT *
    FROM
    (
        SELECT
            county_code,
            category,
            count() AS settled,
            countIf(outcome = 'mediated') AS mediated,
            countIf(outcome = 'litigated') AS litigated,
            countIf(outcome = 'arbitrated') AS arbitrated,
            round(mediated / settled, 4) AS mediation_share
        FROM
        (
            SELECT incident_id, CAST(county_code AS String) AS county_code, CAST(outcome AS String) AS outcome
            FROM {db}.dispositions_distinct
            WHERE action = 'resolve' AND outcome IN ('mediated', 'litigated', 'arbitrated')
        ) AS settlements
        ANY LEFT JOIN
        (
            SELECT incident_id, CAST(category AS String) AS category FROM {db}.incidents_latest
        ) AS matters USING incident_id
        GROUP BY county_code, category
    ) AS step0
    ANY LEFT JOIN
    (
        SELECT code AS county_code, name AS county_name, name_pinyin AS county_pinyin FROM {db}.units
    ) AS names0 USING (county_code)
) AS step1
ANY LEFT JOIN
(
    SELECT code AS category, name_zh AS category_name, name_en AS category_name_en FROM {db}.categories
) AS names1 USING (category)
ORDER BY county_code, category

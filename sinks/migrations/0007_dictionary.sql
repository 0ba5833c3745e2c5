-- The rule catalogue, the policy's parameters and pinyin unit names (issue 18).
--
-- rules: every rule id a decision can record (transitions.rule_ids, incidents.reasons, body_rule,
-- county_alerts.rule_id) with its family, the levels it applies at and what it means; policy_parameters:
-- every setting of schemas/data/policy.toml with its value and meaning. Both carry the policy version
-- ("name/version", as recorded on every incident and transition), so rows of several policy versions can
-- live side by side. units is recreated with name_pinyin beside the Chinese name (schemas/data/SOURCES.md).
-- All three are filled by `gridflow init` (sinks.dimensions) when empty; units is emptied here on purpose.
DROP TABLE IF EXISTS {db}.units;

CREATE TABLE IF NOT EXISTS {db}.units
(
    code String COMMENT 'unit code: county 6 digits, township 9, village 12, grid 15; the city is 150800',
    level {enum_level} COMMENT 'the unit level: grid, village, township, county or city',
    kind String COMMENT 'the Chinese unit type: 市, 区/县/旗, 街道/镇/乡/苏木, 社区/村/嘎查, 网格',
    name String COMMENT 'the Chinese name, e.g. 西小召镇',
    name_pinyin String COMMENT 'the name in pinyin without tones, place-name style, e.g. Xixiaozhao Zhen',
    parent String COMMENT 'code of the unit one level up (empty for the city)',
    county String COMMENT 'code of the county the unit lies in (empty for the city)',
    township String COMMENT 'code of the township the unit lies in (empty above township level)',
    simulated UInt8 COMMENT '1 for generated villages and grids, 0 for real units',
    lon Float64 COMMENT 'longitude of the unit centroid (WGS84)',
    lat Float64 COMMENT 'latitude of the unit centroid (WGS84)'
)
ENGINE = MergeTree()
ORDER BY code;

CREATE TABLE IF NOT EXISTS {db}.rules
(
    rule_id String COMMENT 'the rule id a decision records, e.g. E-UPG-001',
    family String COMMENT 'classification (C-), routing (C-LVL), escalation (E-), disposition (D-), handling (H-) or county (K-)',
    levels Array(String) COMMENT 'the levels the rule applies at; empty: any level',
    meaning String COMMENT 'what the rule decides, naming the policy parameters it reads',
    policy_version String COMMENT 'the policy (name/version) this text belongs to; join on it with incidents.policy_version'
)
ENGINE = MergeTree()
ORDER BY (policy_version, rule_id);

CREATE TABLE IF NOT EXISTS {db}.policy_parameters
(
    policy_version String COMMENT 'the policy (name/version) the value belongs to',
    parameter String COMMENT 'the setting, section.key for tables of policy.toml, e.g. default_sla.grid',
    value String COMMENT 'the value as written; durations as text, e.g. 4 hours',
    seconds UInt64 COMMENT 'a duration in seconds; 0 when the setting is not a duration',
    meaning String COMMENT 'the comment that explains the setting in policy.toml'
)
ENGINE = MergeTree()
ORDER BY (policy_version, parameter);

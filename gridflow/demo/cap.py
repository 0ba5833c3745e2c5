"""CAP 1.2 alerts (OASIS Common Alerting Protocol) for incidents that reach county or city level.

:func:`alert_for` maps an incident and the transition that lifted it to county (L4) or city (L5) into a CAP
document an operator can act on:

- ``status`` Exercise for simulated data; ``msgType`` Alert when the incident first reaches county or city,
  Update (referencing the previous alert) when it climbs on; an identifier from the incident id and the
  transition's seq, so one file per alert version;
- ``scope`` Private with ``<addresses>``: these are internal command alerts for the county's 综治中心 and
  the city's 指挥中心, not public warnings;
- a description in names (category, county, township, village, grid, handling unit, why it moved, the
  rules that fired, opened and due times), an instruction for the receiving centre, an expiry (the
  deadline at the new level), a contact (the duty desk of the handling centre);
- the area: the county's (or the city's) real outline from :mod:`gridflow.mapdata`, a circle around the
  grid sized by the grid's extent, and the GB/T 2260 code.

:func:`check_cap` validates a document against the OASIS CAP 1.2 XML Schema shipped in
``schemas/CAP-v1.2.xsd`` (xmlschema), plus the specification's rules the schema cannot express, and
returns the problems found, so the command centre never writes an alert a CAP consumer would refuse.
"""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from gridflow.mapdata import shapes
from schemas.enums import IncidentStatus, Level, MessageStatus
from schemas.geography import CITY_CODE, geography
from schemas.messages import Incident, Transition
from schemas.taxonomy import taxonomy

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER = "gridflow-command-centre@150800.bayannur"
XSD = "CAP-v1.2.xsd"
DEFAULT_EXPIRY = timedelta(hours=24)  # when the incident has no deadline at its new level

# Taxonomy groups → CAP categories. Disputes are a public-safety matter for the command centre.
GROUP_CATEGORY = {
    "dispute": "Safety",
    "public_safety": "Security",
    "fire": "Fire",
    "flood": "Met",
    "environment": "Env",
    "infrastructure": "Infra",
    "public_health": "Health",
    "traffic": "Transport",
    "petition": "Other",
}
SEVERITY_CAP = {5: "Extreme", 4: "Severe", 3: "Moderate", 2: "Minor", 1: "Minor"}
REASON_ZH = {
    "initial_routing": "按严重程度直接上报",
    "sla_breach": "下级处置超时",
    "severity_upgrade": "研判升级",
    "repeat_dispute": "矛盾反复",
    "cluster": "同类事件聚集",
    "handler_request": "下级请求上报",
    "merge": "合并",
}
LEVEL_ZH = {1: "网格", 2: "村（社区）", 3: "乡镇（街道）", 4: "旗县区", 5: "市"}
_POINT = r"-?\d+(\.\d+)?,-?\d+(\.\d+)?"


@dataclass(frozen=True, slots=True)
class Alert:
    """One CAP document with the names it is filed under."""

    identifier: str
    filename: str
    msg_type: str
    xml: str
    sent: str = ""
    headline: str = ""


def cap_time(at: datetime) -> str:
    """A CAP datetime: seconds precision, explicit offset."""
    return at.replace(microsecond=0).isoformat()


def identifier_for(incident_id: object, seq: int) -> str:
    """The id of an incident's alert at one transition (deterministic: redelivery rewrites one file)."""
    return f"gridflow-{incident_id}-{seq}"


def address_of(code: str) -> str:
    """The CAP address of a command centre (a county's 综治中心, or the city's 指挥中心)."""
    return f"command-centre-{code}@bayannur.gridflow"


def _polygon(code: str) -> str:
    """The unit's real outline (largest polygon's outer ring) as CAP 'lat,lon' pairs, closed."""
    shape = shapes()[code]
    ring = max((poly[0] for poly in shape.polygons), key=len)
    points = [f"{lat:.4f},{lon:.4f}" for lon, lat in ring]
    if points[0] != points[-1]:
        points.append(points[0])
    return " ".join(points)


def _circle(grid: str) -> str:
    """A circle around the grid, its radius the grid box's half diagonal in km."""
    unit = geography().unit(grid)
    box = unit.bbox
    km_lat = 111.2
    km_lon = km_lat * math.cos(math.radians(unit.centroid.lat))
    radius = math.hypot((box.max_lon - box.min_lon) * km_lon, (box.max_lat - box.min_lat) * km_lat) / 2
    return f"{unit.centroid.lat:.5f},{unit.centroid.lon:.5f} {max(radius, 0.1):.2f}"


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    element.text = text
    return element


def _local(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at else "—"


def _instruction(level: Level, incident: Incident, centre: str, due: datetime | None) -> str:
    action = "确认接收（acknowledge）" if incident.status != IncidentStatus.IN_PROGRESS else "跟进处置"
    by = f"，{_local(due)} 前" if due else ""
    lines = [
        f"{centre}值班员：{action}{by}指派牵头单位处置（dispatch），处置结果按处置反馈上报；"
        f"无法化解的请求上报（request escalation）。",
    ]
    if level == Level.CITY:
        lines.append("市级：协调相关部门联动，并通报事发旗县区综治中心。")
    if incident.severity >= 5:
        lines.append("严重程度 5：15 分钟内确认。")
    return "".join(lines)


def alert_for(incident: Incident, transition: Transition, previous: tuple[str, str] | None = None) -> Alert:
    """The CAP alert for ``transition`` (to county or city) of ``incident``.

    ``previous`` is the (identifier, sent) of the incident's last alert, referenced by an Update.
    """
    geo, tax = geography(), taxonomy()
    category = tax.categories.get(incident.category)
    msg_type = "Update" if previous is not None else "Alert"
    identifier = identifier_for(incident.incident_id, transition.seq)
    level = Level(transition.to_level)
    county, city = geo.unit(incident.county_code), geo.unit(CITY_CODE)
    township = geo.unit(incident.township_code)
    village = geo.unit(geo.ancestor(incident.grid_code, Level.VILLAGE))
    grid = geo.unit(incident.grid_code)
    handler = geo.unit(transition.handling_unit)
    centre = f"{county.name}综治中心" if level == Level.COUNTY else f"{city.name}应急指挥中心"
    name = f"{category.name_zh}（{category.name_en}）" if category else incident.category
    where = county.name if level == Level.COUNTY else f"{city.name}（事发{county.name}）"
    sent = cap_time(transition.at)
    due = incident.due_at
    expires = due if due is not None and due > transition.at else transition.at + DEFAULT_EXPIRY
    reason = REASON_ZH.get(str(transition.reason), str(transition.reason))

    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}alert")
    _sub(root, "identifier", identifier)
    _sub(root, "sender", SENDER)
    _sub(root, "sent", sent)
    _sub(root, "status", "Exercise" if incident.message_status == MessageStatus.EXERCISE else "Actual")
    _sub(root, "msgType", msg_type)
    _sub(root, "scope", "Private")
    recipients = [address_of(incident.county_code)] + ([address_of(CITY_CODE)] if level == Level.CITY else [])
    _sub(root, "addresses", " ".join(recipients))
    if incident.message_status == MessageStatus.EXERCISE:
        _sub(root, "note", "演练 exercise: simulated data from gridflow")
    if previous is not None:
        _sub(root, "references", f"{SENDER},{previous[0]},{previous[1]}")
    _sub(root, "incidents", str(incident.incident_id))
    info = ET.SubElement(root, f"{{{NS}}}info")
    _sub(info, "language", "zh-CN")
    _sub(info, "category", GROUP_CATEGORY.get(category.group if category else "", "Other"))
    _sub(info, "event", name)
    _sub(info, "responseType", "Execute" if incident.severity >= 4 else "Assess")
    _sub(info, "urgency", "Immediate" if incident.severity >= 4 else "Expected")
    _sub(info, "severity", SEVERITY_CAP[incident.severity])
    pending = incident.status == IncidentStatus.PENDING_VERIFICATION
    _sub(info, "certainty", "Possible" if pending else "Observed")
    _sub(info, "effective", sent)
    _sub(info, "expires", cap_time(expires))
    _sub(info, "senderName", f"{city.name}社会治理综合指挥平台（gridflow）")
    _sub(info, "headline", f"{name}上报至{where}：{township.name}，{reason}")
    _sub(
        info,
        "description",
        f"{county.name}{township.name}{village.name}（{grid.name}）发生{name}，"
        f"严重程度 {incident.severity}/5。"
        f"{reason}，由{LEVEL_ZH[int(transition.from_level)] + '级' if transition.from_level else '首次'}"
        f"上报至{LEVEL_ZH[int(level)]}级，现由{handler.name}办理。"
        f"触发规则：{', '.join(transition.rule_ids) or '—'}。"
        f"立案 {_local(incident.opened_at)}，本级办结时限 {_local(due)}；"
        f"关联事件 {len(incident.source_event_ids)} 条；状态 {incident.status}。",
    )
    _sub(info, "instruction", _instruction(level, incident, centre, due))
    _sub(info, "contact", f"{centre}值班室（gridflow 演练联系人）")
    for value_name, value in (
        ("gridflow:transition_reason", str(transition.reason)),
        ("gridflow:rule_ids", " ".join(transition.rule_ids)),
        ("gridflow:handling_unit", f"{transition.handling_unit} {handler.name}"),
        ("gridflow:level", f"L{int(level)}"),
    ):
        parameter = ET.SubElement(info, f"{{{NS}}}parameter")
        _sub(parameter, "valueName", value_name)
        _sub(parameter, "value", value)
    area = ET.SubElement(info, f"{{{NS}}}area")
    code = incident.county_code if level == Level.COUNTY else CITY_CODE
    _sub(area, "areaDesc", f"{county.name}，{city.name}" if level == Level.COUNTY else city.name)
    _sub(area, "polygon", _polygon(code))
    _sub(area, "circle", _circle(incident.grid_code))
    geocode = ET.SubElement(area, f"{{{NS}}}geocode")
    _sub(geocode, "valueName", "GB/T 2260")
    _sub(geocode, "value", code)
    ET.indent(root)
    xml = "<?xml version='1.0' encoding='UTF-8'?>\n" + ET.tostring(root, encoding="unicode") + "\n"
    headline = f"{name}上报至{where}：{township.name}，{reason}"
    return Alert(identifier, f"{identifier}.xml", msg_type, xml, sent, headline)


@functools.cache
def _schema() -> Any:
    import xmlschema

    path = resources.files("gridflow.demo") / "schemas" / XSD
    return xmlschema.XMLSchema(str(path))


def _text(root: ET.Element, tag: str) -> str | None:
    element = root.find(f"{{{NS}}}{tag}")
    return None if element is None else (element.text or "")


def check_cap(document: str | bytes) -> list[str]:
    """Problems with a CAP 1.2 document; an empty list means it conforms.

    The OASIS schema decides the structure (elements, order, cardinality, enumerations, datetimes); the
    rules the schema cannot express are checked here: Restricted scope needs ``<restriction>``, Private
    scope needs ``<addresses>``, an Update/Cancel/Ack/Error needs ``<references>``, identifier and sender
    hold no space, comma or '<'/'&', and a polygon is closed with at least four points.
    """
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        return [f"not well-formed XML: {exc}"]
    if root.tag != f"{{{NS}}}alert":
        return [f"root element is {root.tag!r}, expected {{{NS}}}alert"]
    problems = [f"{e.path}: {e.reason}" for e in _schema().iter_errors(document)]
    scope, msg_type = _text(root, "scope"), _text(root, "msgType")
    if scope == "Restricted" and _text(root, "restriction") is None:
        problems.append("scope Restricted requires <restriction>")
    if scope == "Private" and not (_text(root, "addresses") or "").strip():
        problems.append("scope Private requires <addresses>")
    if msg_type in ("Update", "Cancel", "Ack", "Error") and _text(root, "references") is None:
        problems.append(f"msgType {msg_type} requires <references>")
    for tag in ("identifier", "sender"):
        value = _text(root, tag)
        if value is not None and (not value or re.search(r"[\s,<&]", value)):
            problems.append(f"{tag}: {value!r} is empty or holds a space, comma, '<' or '&'")
    for polygon in root.iter(f"{{{NS}}}polygon"):
        pairs = (polygon.text or "").split()
        if len(pairs) < 4 or pairs[0] != pairs[-1] or not all(re.fullmatch(_POINT, p) for p in pairs):
            problems.append("polygon: needs at least 4 'lat,lon' points, the first equal to the last")
    return problems

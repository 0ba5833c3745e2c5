"""CAP 1.2 alerts (OASIS Common Alerting Protocol) for incidents that reach county or city level.

:func:`alert_for` maps an incident and the transition that lifted it to county (L4) or city (L5) into a CAP
document: ``status`` Exercise for simulated data, ``msgType`` Alert when the incident first reaches county or
city and Update when it climbs from county to city, an identifier derived from the incident id and the
transition's seq (so one file per alert version), the county/city as the area with the unit's bounding box
as polygon and a circle around the grid. :func:`check_cap` checks a document against the CAP 1.2 structure
(required elements and their order, enumerated values, time and coordinate formats) and returns the problems
found, so the command centre never writes an alert a CAP consumer would refuse.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas.enums import IncidentStatus, Level, MessageStatus
from schemas.geography import CITY_CODE, geography
from schemas.messages import Incident, Transition
from schemas.taxonomy import taxonomy

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER = "gridflow-command-centre@150800.bayannur"

STATUS = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPE = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPE = ("Public", "Restricted", "Private")
CATEGORY = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
URGENCY = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITY = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTY = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
RESPONSE = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None")

# The alert's children in the order the CAP 1.2 schema's sequence fixes; True = required.
ALERT_ORDER: tuple[tuple[str, bool], ...] = (
    ("identifier", True),
    ("sender", True),
    ("sent", True),
    ("status", True),
    ("msgType", True),
    ("source", False),
    ("scope", True),
    ("restriction", False),
    ("addresses", False),
    ("code", False),
    ("note", False),
    ("references", False),
    ("incidents", False),
    ("info", False),
)
INFO_REQUIRED = ("category", "event", "urgency", "severity", "certainty")
# CAP datetimes: seconds precision with an explicit offset, no "Z" (CAP 1.2, section 3.3.2).
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
_POINT = r"-?\d+(\.\d+)?,-?\d+(\.\d+)?"
_CIRCLE = re.compile(rf"^{_POINT} \d+(\.\d+)?$")
_FORBIDDEN = re.compile(r"[\s,<&]")

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


@dataclass(frozen=True, slots=True)
class Alert:
    """One CAP document with the names it is filed under."""

    identifier: str
    filename: str
    msg_type: str
    xml: str


def cap_time(at: datetime) -> str:
    """A CAP datetime: seconds precision, explicit offset."""
    return at.replace(microsecond=0).isoformat()


def identifier_for(incident_id: object, seq: int) -> str:
    """The id of an incident's alert at one transition (deterministic: redelivery rewrites one file)."""
    return f"gridflow-{incident_id}-{seq}"


def _polygon(code: str) -> str:
    box = geography().unit(code).bbox
    corners = [
        (box.min_lat, box.min_lon),
        (box.min_lat, box.max_lon),
        (box.max_lat, box.max_lon),
        (box.max_lat, box.min_lon),
        (box.min_lat, box.min_lon),
    ]
    return " ".join(f"{lat:.4f},{lon:.4f}" for lat, lon in corners)


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    element.text = text
    return element


def alert_for(incident: Incident, transition: Transition, previous: tuple[str, str] | None = None) -> Alert:
    """The CAP alert for ``transition`` (to county or city) of ``incident``.

    ``previous`` is the (identifier, sent) of the incident's last alert, referenced by an Update.
    """
    geo, tax = geography(), taxonomy()
    category = tax.categories.get(incident.category)
    msg_type = "Update" if previous is not None else "Alert"
    identifier = identifier_for(incident.incident_id, transition.seq)
    level = Level(transition.to_level)
    county = geo.unit(incident.county_code)
    city = geo.unit(CITY_CODE)
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}alert")
    _sub(root, "identifier", identifier)
    _sub(root, "sender", SENDER)
    _sub(root, "sent", cap_time(transition.at))
    _sub(root, "status", "Exercise" if incident.message_status == MessageStatus.EXERCISE else "Actual")
    _sub(root, "msgType", msg_type)
    _sub(root, "scope", "Public")
    if incident.message_status == MessageStatus.EXERCISE:
        _sub(root, "note", "演练 exercise: simulated data from gridflow")
    if previous is not None:
        _sub(root, "references", f"{SENDER},{previous[0]},{previous[1]}")
    _sub(root, "incidents", str(incident.incident_id))
    info = ET.SubElement(root, f"{{{NS}}}info")
    _sub(info, "language", "zh-CN")
    _sub(info, "category", GROUP_CATEGORY.get(category.group if category else "", "Other"))
    name = f"{category.name_zh} {category.name_en}" if category else incident.category
    _sub(info, "event", name)
    _sub(info, "urgency", "Immediate" if incident.severity >= 4 else "Expected")
    _sub(info, "severity", SEVERITY_CAP[incident.severity])
    pending = incident.status == IncidentStatus.PENDING_VERIFICATION
    _sub(info, "certainty", "Possible" if pending else "Observed")
    _sub(info, "senderName", f"{city.name}社会治理 gridflow")
    where = county.name if level == Level.COUNTY else f"{city.name}（{county.name}）"
    _sub(info, "headline", f"{name} escalated to {level.name.lower()} level: {where}")
    _sub(
        info,
        "description",
        f"incident {incident.incident_id} severity {incident.severity}, level L{int(level)}, "
        f"handling unit {transition.handling_unit}, reason {transition.reason}, grid {incident.grid_code}",
    )
    parameter = ET.SubElement(info, f"{{{NS}}}parameter")
    _sub(parameter, "valueName", "gridflow:transition_reason")
    _sub(parameter, "value", str(transition.reason))
    area = ET.SubElement(info, f"{{{NS}}}area")
    _sub(area, "areaDesc", f"{county.name}, {city.name}" if level == Level.COUNTY else f"{city.name}")
    _sub(area, "polygon", _polygon(incident.county_code if level == Level.COUNTY else CITY_CODE))
    grid = geo.unit(incident.grid_code).centroid
    _sub(area, "circle", f"{grid.lat:.5f},{grid.lon:.5f} 1.0")
    geocode = ET.SubElement(area, f"{{{NS}}}geocode")
    _sub(geocode, "valueName", "GB/T 2260")
    _sub(geocode, "value", incident.county_code if level == Level.COUNTY else CITY_CODE)
    ET.indent(root)
    xml = "<?xml version='1.0' encoding='UTF-8'?>\n" + ET.tostring(root, encoding="unicode") + "\n"
    return Alert(identifier=identifier, filename=f"{identifier}.xml", msg_type=msg_type, xml=xml)


def _local(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def _enum(problems: list[str], where: str, element: ET.Element | None, allowed: Sequence[str]) -> None:
    if element is not None and (element.text or "") not in allowed:
        problems.append(f"{where}: {element.text!r} is not one of {', '.join(allowed)}")


def _check_polygon(problems: list[str], text: str) -> None:
    pairs = text.split()
    if len(pairs) < 4 or pairs[0] != pairs[-1]:
        problems.append("polygon: needs at least 4 points, the first equal to the last")
    for pair in pairs:
        if not re.fullmatch(_POINT, pair):
            problems.append(f"polygon: {pair!r} is not 'lat,lon'")
            return
        lat, lon = (float(v) for v in pair.split(","))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            problems.append(f"polygon: {pair!r} is outside WGS 84")


def _check_info(problems: list[str], info: ET.Element, n: int) -> None:
    children = [_local(c.tag) for c in info]
    for name in INFO_REQUIRED:
        if name not in children:
            problems.append(f"info[{n}]: missing required <{name}>")
    for child in info:
        tag = _local(child.tag)
        if tag == "category":
            _enum(problems, f"info[{n}].category", child, CATEGORY)
        elif tag == "urgency":
            _enum(problems, f"info[{n}].urgency", child, URGENCY)
        elif tag == "severity":
            _enum(problems, f"info[{n}].severity", child, SEVERITY)
        elif tag == "certainty":
            _enum(problems, f"info[{n}].certainty", child, CERTAINTY)
        elif tag == "responseType":
            _enum(problems, f"info[{n}].responseType", child, RESPONSE)
        elif tag in ("effective", "onset", "expires") and not _TIME.match(child.text or ""):
            problems.append(f"info[{n}].{tag}: {child.text!r} is not a CAP datetime")
        elif tag == "area":
            area = [_local(c.tag) for c in child]
            if "areaDesc" not in area:
                problems.append(f"info[{n}].area: missing required <areaDesc>")
            for part in child:
                if _local(part.tag) == "polygon":
                    _check_polygon(problems, part.text or "")
                elif _local(part.tag) == "circle" and not _CIRCLE.match(part.text or ""):
                    problems.append(f"info[{n}].area.circle: {part.text!r} is not 'lat,lon radius'")


def check_cap(document: str | bytes) -> list[str]:
    """Problems with a CAP 1.2 document's structure; an empty list means it conforms."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        return [f"not well-formed XML: {exc}"]
    if root.tag != f"{{{NS}}}alert":
        return [f"root element is {root.tag!r}, expected {{{NS}}}alert"]
    problems: list[str] = []
    for child in root:
        if not child.tag.startswith(f"{{{NS}}}"):
            problems.append(f"<{child.tag}> is outside the CAP 1.2 namespace")
    names = [_local(c.tag) for c in root]
    order = [name for name, _ in ALERT_ORDER]
    unknown = [n for n in names if n not in order]
    problems += [f"unknown element <{n}> in <alert>" for n in unknown]
    known = [order.index(n) for n in names if n in order]
    if known != sorted(known):
        problems.append("the elements of <alert> are out of the CAP 1.2 order")
    for name, required in ALERT_ORDER:
        if required and name not in names:
            problems.append(f"missing required <{name}>")
        if name != "info" and names.count(name) > 1:
            problems.append(f"<{name}> appears more than once")

    def first(tag: str) -> ET.Element | None:
        return root.find(f"{{{NS}}}{tag}")

    _enum(problems, "status", first("status"), STATUS)
    _enum(problems, "msgType", first("msgType"), MSG_TYPE)
    _enum(problems, "scope", first("scope"), SCOPE)
    for tag in ("identifier", "sender"):
        element = first(tag)
        if element is not None and (not element.text or _FORBIDDEN.search(element.text)):
            problems.append(f"{tag}: {element.text!r} is empty or holds a space, comma, '<' or '&'")
    sent = first("sent")
    if sent is not None and not _TIME.match(sent.text or ""):
        problems.append(f"sent: {sent.text!r} is not a CAP datetime (YYYY-MM-DDThh:mm:ss+hh:mm)")
    msg_type = first("msgType")
    if (
        msg_type is not None
        and msg_type.text in ("Update", "Cancel", "Ack", "Error")
        and first("references") is None
    ):
        problems.append(f"msgType {msg_type.text} requires <references>")
    scope = first("scope")
    if scope is not None and scope.text == "Restricted" and first("restriction") is None:
        problems.append("scope Restricted requires <restriction>")
    for n, info in enumerate(root.findall(f"{{{NS}}}info")):
        _check_info(problems, info, n)
    return problems

"""The CAP alerts as an ATOM feed (RFC 4287), the usual way CAP is distributed: newest first, one entry per
alert, each linking to the CAP document (``application/cap+xml``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from gridflow.demo.cap import Alert

ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(alerts: Iterable[Alert], base: str, title: str, updated: str) -> str:
    """The feed document; ``base`` is the server's root URL, ``updated`` the newest alert's time."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    sub(feed, "id", f"{base}/cap/alerts.atom")
    sub(feed, "title", title)
    sub(feed, "updated", updated)
    author = sub(feed, "author")
    sub(author, "name", "gridflow command centre")
    sub(feed, "link", rel="self", href=f"{base}/cap/alerts.atom")
    for alert in sorted(alerts, key=lambda a: a.sent, reverse=True):
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:gridflow:cap:{alert.identifier}")
        sub(entry, "title", f"{alert.msg_type}: {alert.headline}")
        sub(entry, "updated", alert.sent)
        sub(entry, "link", rel="alternate", type="application/cap+xml", href=f"{base}/cap/{alert.filename}")
        sub(entry, "summary", alert.headline)
    ET.indent(feed)
    return "<?xml version='1.0' encoding='UTF-8'?>\n" + ET.tostring(feed, encoding="unicode") + "\n"

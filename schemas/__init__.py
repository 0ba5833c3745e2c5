"""gridflow's message contracts: models, codecs, geography, taxonomy, policy, topics and ids.

Everything other packages need is re-exported here (docs/CONTRACTS.md is the agreed list); the submodules
are ``enums``, ``messages``, ``decode``, ``errors``, ``geography``, ``taxonomy``, ``policy``, ``topics``,
``ids`` and ``point`` (plus ``examples`` and, for tests, ``strategies``). Run ``python -m schemas export``
to regenerate the JSON Schema files in ``schemas/json/``.

Note: the re-exported functions ``geography``, ``taxonomy`` and ``policy`` share their submodules' names, so
as attributes of this package they are the functions; reach the modules with ``from schemas.geography import
Unit`` and the like.
"""

from schemas.decode import MAX_PAYLOAD_BYTES, decode, decode_intake, decode_message, encode
from schemas.enums import (
    AlertType,
    DispositionAction,
    IncidentStatus,
    Level,
    MessageStatus,
    TransitionReason,
)
from schemas.errors import (
    ContractError,
    DataFileError,
    DecodeError,
    GridflowError,
    Problem,
    UnknownUnitError,
)
from schemas.geography import CITY_CODE, Geography, Unit, geography, load_geography
from schemas.ids import dead_letter_id_for, incident_id_for, transition_id_for
from schemas.messages import (
    MAX_REASONS,
    MAX_SOURCE_EVENTS,
    REPORT_CLOCK_SKEW,
    CameraAlert,
    ClockTick,
    DeadLetter,
    Disposition,
    GeoPoint,
    GridReport,
    Incident,
    IntakeMessage,
    IntakeUnion,
    Message,
    MessageUnion,
    Reporter,
    Transition,
)
from schemas.point import BBox
from schemas.policy import Policy, load_policy, policy
from schemas.taxonomy import Category, Taxonomy, load_taxonomy, taxonomy
from schemas.topics import Topics, TopicSpec, topics

__all__ = [
    "CITY_CODE",
    "MAX_PAYLOAD_BYTES",
    "MAX_REASONS",
    "MAX_SOURCE_EVENTS",
    "REPORT_CLOCK_SKEW",
    "AlertType",
    "BBox",
    "CameraAlert",
    "Category",
    "ClockTick",
    "ContractError",
    "DataFileError",
    "DeadLetter",
    "DecodeError",
    "Disposition",
    "DispositionAction",
    "GeoPoint",
    "Geography",
    "GridReport",
    "GridflowError",
    "Incident",
    "IncidentStatus",
    "IntakeMessage",
    "IntakeUnion",
    "Level",
    "Message",
    "MessageStatus",
    "MessageUnion",
    "Policy",
    "Problem",
    "Reporter",
    "Taxonomy",
    "TopicSpec",
    "Topics",
    "Transition",
    "TransitionReason",
    "Unit",
    "UnknownUnitError",
    "dead_letter_id_for",
    "decode",
    "decode_intake",
    "decode_message",
    "encode",
    "geography",
    "incident_id_for",
    "load_geography",
    "load_policy",
    "load_taxonomy",
    "policy",
    "taxonomy",
    "topics",
    "transition_id_for",
]

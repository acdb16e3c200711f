"""Hospitals (Health Intel Providers): local or remote model services, combined by an aggregator.

The actions use :class:`HospitalNetwork` only; see :mod:`actions.hospitals.network`.
"""

from actions.hospitals.base import Hospital
from actions.hospitals.network import HospitalNetwork, as_location
from actions.hospitals.types import (
    AggregatedAnswer,
    AggregatedFinding,
    HospitalAnswer,
    HospitalError,
    HospitalInfo,
    ImageScreening,
    LabelOutcome,
    SegmentationReport,
)

__all__ = [
    "AggregatedAnswer",
    "AggregatedFinding",
    "Hospital",
    "HospitalAnswer",
    "HospitalError",
    "HospitalInfo",
    "HospitalNetwork",
    "ImageScreening",
    "LabelOutcome",
    "SegmentationReport",
    "as_location",
]

"""Hospitals (Health Intel Providers): local or remote model services, combined by an aggregator.

The actions use :class:`HospitalNetwork` only, through the protocol :class:`hospitals.api.HospitalsAPI`; see
:mod:`hospitals.network`.
"""

from hospitals.base import Hospital
from hospitals.network import HospitalNetwork, as_location
from hospitals.types import (
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

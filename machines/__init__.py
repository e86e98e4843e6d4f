"""Process definitions, one module per process (DESIGN.md "The processes").

The engine finds them through the ``gongkai.processes`` entry point, which
points at :func:`definitions`; it never imports a machine module by name.
"""

from machines.annual_report import ANNUAL_REPORT
from machines.application import APPLICATION
from machines.catalogue import CATALOGUE
from machines.inquiry import INQUIRY
from machines.observer_seats import OBSERVER_SEATS
from machines.predisclosure import PRE_DISCLOSURE
from machines.routine import ROUTINE, ROUTINE_V1
from machines.village_decision import VILLAGE_DECISION
from workflow.core.declare import Process


def definitions() -> list[Process]:
    """Every declared version of every process kind, oldest first."""
    return [APPLICATION, INQUIRY, ROUTINE_V1, ROUTINE, CATALOGUE, OBSERVER_SEATS,
            VILLAGE_DECISION, PRE_DISCLOSURE, ANNUAL_REPORT]

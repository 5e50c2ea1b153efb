"""Typed refusals of the equipment context (DESIGN.md §2): a machine code, a translated message, the field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from batchline.core.errors import Conflict, InvalidInput, NotFound


class EquipmentNotFound(NotFound):
    code = "equipment_not_found"
    default_message = _("There is no equipment {equipment}.")


class CleaningNotFound(NotFound):
    code = "cleaning_not_found"
    default_message = _("There is no such cleaning record for this equipment.")


class DuplicateEquipment(Conflict):
    code = "duplicate_equipment"
    default_message = _("Equipment {equipment} is already registered.")


class EquipmentRetired(Conflict):
    code = "equipment_retired"
    default_message = _("Equipment {equipment} is retired; nothing more can be recorded for it.")


class StatusTransitionNotAllowed(Conflict):
    """The status machine (equipment.status.TRANSITIONS) has no such step from the current status."""

    code = "equipment_status_transition"
    default_message = _("Equipment {equipment} is {before}; it cannot become {after} this way.")


class WrongCleaningState(Conflict):
    code = "cleaning_state"
    default_message = _("The cleaning record is {state}; this step needs it {needed}.")


class MajorCleanRequired(Conflict):
    """EQ-03: a minor clean is refused where the rules ask for a major one."""

    code = "major_clean_required"
    default_message = _("A major clean is required: {reason}")


class MaterialNotApproved(InvalidInput):
    code = "material_not_approved"
    default_message = _("Material {material} is not an approved material.")


class RoomNotApproved(InvalidInput):
    code = "room_not_approved"
    default_message = _("Room {room} is not an approved room.")


class NoChange(Conflict):
    code = "no_change"
    default_message = _("Nothing was changed.")


class InvalidMeasurement(InvalidInput):
    code = "invalid_measurement"
    default_message = _("Measurement {index}: {problem}")


class EquipmentNotUsable(Conflict):
    """The one refusal of EQ-02 / DESIGN.md §3.5: names the equipment, the use, and every reason at once.

    `reasons` are equipment.usability.Reason objects, rendered in the language active when the
    message is shown (the API's Accept-Language, the person's web language), not when it was raised.
    """

    code = "equipment_not_usable"
    default_message = _("Equipment {equipment} cannot be used for {use}: {reasons}.")

    def __init__(self, *, equipment: str, use: Any, reasons: Sequence[Any], field: str | None = "equipment") -> None:
        self.reasons = list(reasons)
        super().__init__(field=field, equipment=equipment, use=use, reasons="")

    def render(self) -> str:
        joined = "; ".join(str(reason) for reason in self.reasons)
        return str(self.message).format(equipment=self.params["equipment"], use=self.params["use"], reasons=joined)

    @property
    def reason_codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]

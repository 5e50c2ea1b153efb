from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from batchline.core.errors import Conflict, InvalidInput


class ContentInvalid(InvalidInput):
    """One or more fields are wrong. `errors` lists every (field, message) so that a form or an
    import dry run can show them all at once; the first is the headline."""

    code = "invalid_field"

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        field, message = errors[0]
        super().__init__(message, field=field)


class UnknownUnit(InvalidInput):
    code = "unknown_unit"
    default_message = _("Unknown unit '{unit}'.")


class UnmappedCode(InvalidInput):
    code = "unmapped_code"
    default_message = _("{system} {kind} code '{external_code}' has no mapping to a Batchline code.")


class ConversionUnavailable(InvalidInput):
    code = "no_conversion"
    default_message = _("There is no approved conversion from {from_unit} to {to_unit}.")


class NothingChanged(InvalidInput):
    code = "nothing_changed"
    default_message = _("The proposed values are the same as the current ones.")


class WrongStatus(Conflict):
    code = "wrong_status"
    default_message = _("{record} is {status}; this action needs it {needed}.")


class PendingChangeExists(Conflict):
    code = "pending_change_exists"
    default_message = _("{record} already has a change awaiting approval; approve, reject or withdraw it first.")


class StaleChange(Conflict):
    code = "stale_change"
    default_message = _("The change was proposed against version {base}, but {record} is now at version {current}.")


class LinkedItemNotApproved(Conflict):
    code = "linked_item_not_approved"
    default_message = _("{record} refers to {linked}, which is not approved.")


class ChangeControlRequired(InvalidInput):
    code = "change_control_required"
    default_message = _("A change to an approved item needs a change-control reference.")

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from batchline.core.errors import InvalidInput, PermissionDenied


class SignerMismatch(PermissionDenied):
    code = "signer_mismatch"
    default_message = _("You can only sign as yourself: the user id entered is not the signed-in user.")


class SignerIdRequired(InvalidInput):
    code = "signer_id_required"
    default_message = _("Enter your user id and password for the first signature of this session.")


class MeaningNotAllowed(InvalidInput):
    code = "meaning_not_allowed"
    default_message = _("'{meaning}' is not a signature meaning for this kind of record.")


class FourEyesViolation(PermissionDenied):
    code = "four_eyes"
    default_message = _("{rule}: the same person cannot do both.")


class SignatureInvalid(InvalidInput):
    code = "signature_invalid"
    default_message = _("The signature does not belong to this record or the record changed since it was signed.")

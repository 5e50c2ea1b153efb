"""Electronic signatures: re-authenticate, check meaning and authority, bind to the content hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from batchline.compliance.audit import record_type_of
from batchline.compliance.errors import FourEyesViolation, SignatureInvalid, SignerIdRequired, SignerMismatch
from batchline.compliance.meanings import meaning_for
from batchline.compliance.models import Signature
from batchline.core import clock
from batchline.core.canonical import content_hash
from batchline.core.context import correlation_id
from batchline.core.errors import ensure
from batchline.identity.authz import authorize
from batchline.identity.services import verify_password

# Fields that change as bookkeeping, not content: a signature is not about them.
_NOT_SIGNED = {"updated_at"}


@dataclass(frozen=True)
class SignatureRequest:
    """What a person types into the signature dialog. `username` is required at the first signature
    of a session (web) and on every API call; it must be the signed-in person's own (ES-05, ES-06)."""

    password: str
    meaning: str
    username: str | None = None
    comment: str = ""


def signed_content(record: models.Model) -> dict[str, Any]:
    """The content a signature binds to: the record's own `signature_content()` or its stored fields."""
    custom = getattr(record, "signature_content", None)
    if callable(custom):
        return custom()
    return {
        field.attname: getattr(record, field.attname)
        for field in record._meta.concrete_fields
        if field.attname not in _NOT_SIGNED
    }


def sign(*, actor: Any, request: SignatureRequest, record: models.Model, username_required: bool = True,
         record_type: str | None = None) -> Signature:
    """Sign `record` as `actor` with `request.meaning`. Call inside the business transaction, after the
    record holds the content being signed, and pass the signature to record_change().

    A wrong password raises AuthenticationFailed; the caller's error mapping counts it toward
    lockout after the rollback (ES-09).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("sign() must run inside the business transaction")
    rtype = record_type or record_type_of(record)
    meaning = meaning_for(rtype, request.meaning)
    given = (request.username or "").strip()
    ensure(given or not username_required, SignerIdRequired(field="username"))
    ensure(not given or given == actor.username, SignerMismatch(field="username"))
    verify_password(actor, request.password)
    authorize(actor, meaning.permission)
    return Signature.objects.create(
        record_type=rtype,
        record_id=str(record.pk),
        content_hash=content_hash(signed_content(record)),
        meaning=meaning.code,
        meaning_en=meaning.label_en,
        meaning_zh=meaning.label_zh,
        signer=actor,
        signer_username=actor.username,
        signer_name=actor.full_name,
        signed_at=clock.now(),
        comment=request.comment.strip(),
        correlation_id=correlation_id(),
    )


def signature_applies(signature: Signature, record: models.Model, *, record_type: str | None = None) -> bool:
    """True while the record still holds exactly the content that was signed (ES-03, ES-04)."""
    rtype = record_type or record_type_of(record)
    if signature.record_type != rtype or signature.record_id != str(record.pk):
        return False
    return signature.content_hash == content_hash(signed_content(record))


def ensure_applies(signature: Signature, record: models.Model) -> None:
    ensure(signature_applies(signature, record), SignatureInvalid())


def ensure_four_eyes(first: Any, second: Any, *, rule: str) -> None:
    """Verifier ≠ performer, approver ≠ author, reviewer ≠ performer (ES-08)."""
    first_id = getattr(first, "pk", first)
    second_id = getattr(second, "pk", second)
    ensure(first_id is None or first_id != second_id, FourEyesViolation(rule=rule))

"""Signature blocks over the API (ES-05, ES-06).

Every API signature carries the user id and the password (username_required=True): there is no
"first signature of the session" over the API. The signer is always the authenticated caller; a
different user id is refused by compliance.signatures.sign(). Integration accounts cannot sign.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from batchline.api.schemas import SignatureIn
from batchline.compliance.signatures import SignatureRequest
from batchline.core.errors import DomainError, ensure
from batchline.identity.errors import NotAPerson

# Refusals about these fields come from the signature block, which sits under "signature".
_BLOCK_FIELDS = {"username", "password", "meaning", "comment"}
USERNAME_REQUIRED = True


def signature_request(actor: Any, block: SignatureIn) -> SignatureRequest:
    ensure(actor.is_person, NotAPerson(field="signature.username"))
    return SignatureRequest(password=block.password, meaning=block.meaning, username=block.username,
                            comment=block.comment)


@contextmanager
def signature_fields() -> Iterator[None]:
    """Name a refused signature field by its place in the body: `signature.password`."""
    try:
        yield
    except DomainError as exc:
        if exc.field in _BLOCK_FIELDS:
            exc.field = f"signature.{exc.field}"
        raise

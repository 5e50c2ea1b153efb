"""The signature dialog's side of ES-05: the user id is asked at the first signature of a session,
the password every time. Views turn the posted dialog into a SignatureRequest with this helper."""

from __future__ import annotations

from django.http import HttpRequest

from batchline.compliance.signatures import SignatureRequest

SESSION_FLAG = "batchline_has_signed"


def username_required(request: HttpRequest) -> bool:
    return not request.session.get(SESSION_FLAG, False)


def signature_request(request: HttpRequest, meaning: str) -> SignatureRequest:
    """Read the dialog's fields: sig_username (first signature only), sig_password, sig_comment."""
    return SignatureRequest(
        password=request.POST.get("sig_password", ""),
        meaning=meaning,
        username=request.POST.get("sig_username", "").strip() or None,
        comment=request.POST.get("sig_comment", ""),
    )


def mark_signed(request: HttpRequest) -> None:
    """Call after a signing service succeeded: later signatures in this session need the password only."""
    request.session[SESSION_FLAG] = True

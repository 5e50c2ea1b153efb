"""Configuration screens of master data: number rules (MD-04) and code maps per external system (MD-03).

Both are audited configuration: creating is recorded, changing needs a reason. The services
(masterdata.numbering.save_rule, masterdata.codemaps.save_mapping) check the permission and the input.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from batchline.core.errors import DomainError
from batchline.identity.authz import has_permission
from batchline.masterdata import codemaps, numbering
from batchline.masterdata.choices import CodeMapKind, CounterReset
from batchline.masterdata.models import CodeMap, NumberRule
from batchline.web.forms.masterdata import field_errors
from batchline.web.views._guards import requires

PAGE_SIZE = 50
NAV = "masterdata"  # configuration belongs to the master-data workspace in the navigation
RULE_FIELDS = ("key", "description", "prefix", "pattern", "reset")


def _safe_preview(rule: NumberRule) -> str:
    try:
        return numbering.preview(rule)
    except DomainError:
        return "—"


# --- number rules ---------------------------------------------------------------------------------

@requires("masterdata.configure")
def number_rules(request: HttpRequest) -> HttpResponse:
    rules = [{"rule": rule, "preview": _safe_preview(rule)} for rule in NumberRule.objects.order_by("key")]
    return render(request, "web/config/number_rules.html", {
        "rules": rules, "can_read_audit": has_permission(request.user, "audit.view"), "nav_current": NAV,
    })


def _render_rule_form(request: HttpRequest, *, rule: NumberRule | None, values: dict[str, str],
                      error: DomainError | None = None, preview: str = "", reason: str = "") -> HttpResponse:
    return render(request, "web/config/number_rule_form.html", {
        "rule": rule, "values": values, "resets": CounterReset.choices, "preview": preview, "reason": reason,
        "nav_current": NAV,
        "error": error, "errors": field_errors(error) if error else {},
    }, status=error.http_status if error else 200)


def _rule_form(request: HttpRequest, rule: NumberRule | None) -> HttpResponse:
    if request.method != "POST":
        if rule is None:
            values = {"key": "", "description": "", "prefix": "", "pattern": "{prefix}{yy}{mm}{seq:04}",
                      "reset": CounterReset.YEARLY}
        else:
            values = {name: getattr(rule, name) for name in RULE_FIELDS}
        return _render_rule_form(request, rule=rule, values=values,
                                 preview=_safe_preview(rule) if rule is not None else "")
    values = {name: request.POST.get(name, "").strip() for name in RULE_FIELDS}
    if rule is not None:
        values["key"] = rule.key  # the key names the rule; it does not change
    reason = request.POST.get("reason", "")
    if "preview" in request.POST:
        # Format with the typed values without saving; an existing rule keeps its counter (same pk).
        draft = NumberRule(pk=rule.pk if rule else None, key=values["key"], prefix=values["prefix"],
                           pattern=values["pattern"], reset=values["reset"] or CounterReset.YEARLY)
        try:
            shown = numbering.preview(draft)
        except DomainError as error:
            return _render_rule_form(request, rule=rule, values=values, error=error, reason=reason)
        return _render_rule_form(request, rule=rule, values=values, preview=shown, reason=reason)
    try:
        saved = numbering.save_rule(actor=request.user, key=values["key"], pattern=values["pattern"],
                                    prefix=values["prefix"], reset=values["reset"],
                                    description=values["description"], reason=reason)
    except DomainError as error:
        return _render_rule_form(request, rule=rule, values=values, error=error, reason=reason)
    messages.success(request, _("Number rule {key} is saved.").format(key=saved.key))
    return redirect(reverse("web:number_rules"))


@requires("masterdata.configure")
def number_rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@requires("masterdata.configure")
def number_rule_edit(request: HttpRequest, key: str) -> HttpResponse:
    return _rule_form(request, get_object_or_404(NumberRule, key=key))


# --- code maps ------------------------------------------------------------------------------------

@requires("masterdata.configure")
def code_maps(request: HttpRequest) -> HttpResponse:
    system = request.GET.get("system", "").strip().upper()
    kind = request.GET.get("kind", "")
    mappings = CodeMap.objects.order_by("system", "kind", "external_code")
    if system:
        mappings = mappings.filter(system=system)
    if kind in CodeMapKind.values:
        mappings = mappings.filter(kind=kind)
    else:
        kind = ""
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/config/code_maps.html", {
        "page": Paginator(mappings, PAGE_SIZE).get_page(request.GET.get("page")), "query": query.urlencode(),
        "system": system, "kind": kind, "kinds": CodeMapKind.choices,
        "systems": CodeMap.objects.order_by("system").values_list("system", flat=True).distinct(),
        "can_read_audit": has_permission(request.user, "audit.view"), "nav_current": NAV,
    })


def _render_map_form(request: HttpRequest, *, mapping: CodeMap | None, values: dict[str, Any],
                     error: DomainError | None = None, reason: str = "") -> HttpResponse:
    return render(request, "web/config/code_map_form.html", {
        "mapping": mapping, "values": values, "kinds": CodeMapKind.choices, "reason": reason,
        "nav_current": NAV,
        "error": error, "errors": field_errors(error) if error else {},
    }, status=error.http_status if error else 200)


def _map_form(request: HttpRequest, mapping: CodeMap | None) -> HttpResponse:
    if request.method != "POST":
        values: dict[str, Any] = {"system": "", "kind": CodeMapKind.MATERIAL, "external_code": "",
                                  "internal_code": "", "active": True}
        if mapping is not None:
            values = {name: getattr(mapping, name)
                      for name in ("system", "kind", "external_code", "internal_code", "active")}
        return _render_map_form(request, mapping=mapping, values=values)
    values = {name: request.POST.get(name, "").strip() for name in ("system", "kind", "external_code",
                                                                      "internal_code")}
    values["active"] = request.POST.get("active") == "yes"
    if mapping is not None:  # system, kind and external code identify the mapping; they do not change
        values.update(system=mapping.system, kind=mapping.kind, external_code=mapping.external_code)
    reason = request.POST.get("reason", "")
    try:
        codemaps.save_mapping(actor=request.user, system=values["system"], kind=values["kind"],
                              external_code=values["external_code"], internal_code=values["internal_code"],
                              active=values["active"], reason=reason)
    except DomainError as error:
        return _render_map_form(request, mapping=mapping, values=values, error=error, reason=reason)
    messages.success(request, _("The code map {system} {external_code} → {internal_code} is saved.").format(
        system=values["system"].upper(), external_code=values["external_code"],
        internal_code=values["internal_code"]))
    return redirect(reverse("web:code_maps") + "?" + urlencode({"system": values["system"].upper()}))


@requires("masterdata.configure")
def code_map_create(request: HttpRequest) -> HttpResponse:
    return _map_form(request, None)


@requires("masterdata.configure")
def code_map_edit(request: HttpRequest, mapping_id: int) -> HttpResponse:
    return _map_form(request, get_object_or_404(CodeMap, pk=mapping_id))


urlpatterns = [
    path("config/number-rules/", number_rules, name="number_rules"),
    path("config/number-rules/new/", number_rule_create, name="number_rule_create"),
    path("config/number-rules/<str:key>/edit/", number_rule_edit, name="number_rule_edit"),
    path("config/code-maps/", code_maps, name="code_maps"),
    path("config/code-maps/new/", code_map_create, name="code_map_create"),
    path("config/code-maps/<int:mapping_id>/", code_map_edit, name="code_map_edit"),
]

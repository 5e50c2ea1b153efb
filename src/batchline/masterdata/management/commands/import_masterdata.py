"""`batchline import_masterdata KIND FILE [--apply --user USERNAME --reason ... --change-control ...]`

For the plant's IT team: prints the dry run of a .csv or .xlsx file (every row, what it would do, every
error with its field) and exits with status 1 if any row has an error. Nothing is written unless
--apply is given; then the import acts as the named person, who needs the masterdata.import and
masterdata.edit permissions, and is kept as an import batch like one uploaded on screen. What it
writes are drafts and change proposals: a second person still approves them with an e-signature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from batchline.core.context import correlation
from batchline.core.errors import DomainError
from batchline.masterdata import importing
from batchline.masterdata.registry import KINDS, kind_of


class Command(BaseCommand):
    help = "Import master data from a .csv or .xlsx file: prints the dry run; writes only with --apply."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help=f"the kind of master data: {', '.join(KINDS)}")
        parser.add_argument("file", help="a .csv (UTF-8 or GB18030) or .xlsx file; row 1 names the fields")
        parser.add_argument("--apply", action="store_true",
                            help="write the import if the dry run has no errors")
        parser.add_argument("--user", default="", help="with --apply: the person the import acts as")
        parser.add_argument("--reason", default="",
                            help="reason for change (needed when approved items change)")
        parser.add_argument("--change-control", dest="change_control", default="",
                            help="change-control reference (needed when approved items change)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            kind = kind_of(options["kind"])
        except DomainError as exc:
            raise CommandError(exc.render()) from None
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        actor = None
        if options["apply"]:
            if not options["user"]:
                raise CommandError("--apply needs --user USERNAME: the import acts as that person")
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"there is no user '{options['user']}'")
        with translation.override(getattr(actor, "language", None) or translation.get_language()):
            self._run(kind, path, data, actor, options)

    def _run(self, kind: Any, path: Path, data: bytes, actor: Any, options: dict[str, Any]) -> None:
        try:
            if actor is not None:
                importing.authorize_apply(actor)
            plan = importing.plan_import(kind, importing.read_table(path.name, data))
        except DomainError as exc:
            raise CommandError(exc.render(), returncode=1) from None
        self._print(plan)
        if plan.error_count:
            raise CommandError(f"{plan.error_count} rows have errors; nothing was written.", returncode=1)
        if actor is None:
            self.stdout.write("Dry run only: nothing was written. Add --apply --user USERNAME to import.")
            return
        with correlation():
            try:
                batch = importing.upload(actor=actor, kind=kind, filename=path.name, data=data)
                importing.plan_all(actor=actor, batch_id=batch.pk)
                batch = importing.apply_batch(actor=actor, batch_id=batch.pk, reason=options["reason"],
                                              change_control_ref=options["change_control"])
            except DomainError as exc:
                raise CommandError(exc.render(), returncode=1) from None
        counts = {action: sum(1 for o in batch.outcome if o["action"] == action)
                  for action in (importing.CREATE, importing.UPDATE_DRAFT, importing.PROPOSE_CHANGE)}
        self.stdout.write(f"Applied as import batch {batch.pk}: {counts['create']} new drafts, "
                          f"{counts['update_draft']} drafts updated, {counts['propose_change']} changes "
                          f"proposed. Each awaits approval by a second person.")

    def _print(self, plan: importing.ImportPlan) -> None:
        self.stdout.write(f"{'row':>6}  {'code':<24} {'action':<15} details")
        for entry in plan.entries:
            details = [f"{name}: {old if old is not None else ''} → {new}"
                       for name, (old, new) in entry.changes.items()]
            details += [f"{name}: {message}" for name, message in entry.errors]
            lines = details or [""]
            self.stdout.write(f"{entry.row:>6}  {entry.code:<24} {entry.action:<15} {lines[0]}".rstrip())
            for line in lines[1:]:
                self.stdout.write(f"{'':>6}  {'':<24} {'':<15} {line}")
        summary = ", ".join(f"{action}: {count}" for action, count in plan.counts().items())
        self.stdout.write(f"{len(plan.entries)} rows checked ({summary}).")

"""`batchline audit verify | seal | export`."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from batchline.compliance import integrity
from batchline.compliance.selectors import AuditFilter, audit_entries, export_csv


class Command(BaseCommand):
    help = "Verify or seal the audit trail, or export it as CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="check every chain, head and seal; exit 1 if anything was tampered with")
        sub.add_parser("seal", help="seal the current state of every chain (run periodically)")
        export = sub.add_parser("export", help="write the audit trail as CSV to stdout")
        export.add_argument("--user", default="")
        export.add_argument("--record-type", default="")
        export.add_argument("--record-id", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "seal":
            made = integrity.seal()
            self.stdout.write(f"Sealed {made.entry_count} entries in {made.chain_count} records (seal {made.pk}).")
        elif action == "export":
            flt = AuditFilter(username=options["user"], record_type=options["record_type"],
                              record_id=options["record_id"])
            for chunk in export_csv(audit_entries(flt)):
                self.stdout.write(chunk, ending="")
        else:
            report = integrity.verify(progress=self._progress if sys.stderr.isatty() else None)
            for finding in report.findings:
                self.stdout.write(str(finding))
            self.stdout.write(report.summary())
            if not report.ok:
                raise CommandError("audit trail verification failed", returncode=1)

    def _progress(self, done: int, total: int) -> None:
        sys.stderr.write(f"\rverifying {done}/{total} entries")
        if done >= total:
            sys.stderr.write("\n")

"""`batchline createuser USERNAME --name "..." --role ROLE`: open an account from the command line.

For the first administrator of a new installation (and for scripted set-up). The account is opened
through identity.services.create_user with no acting user, which the audit trail records as
"system"; the person must change the password at first sign-in, as after any account opening.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from batchline.core.errors import DomainError
from batchline.identity import services
from batchline.identity.roles import role_codes


class Command(BaseCommand):
    help = "Open a user account (bootstrap: recorded as 'system' in the audit trail)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="full name as printed on signatures")
        parser.add_argument("--role", action="append", required=True, choices=role_codes(), dest="roles",
                            help="a role from identity/permissions.toml; repeat for several")
        parser.add_argument("--email", default="")
        parser.add_argument("--language", default="zh-hans", help="zh-hans (default) or en")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the initial password from the first line of standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._read_password(options["password_stdin"])
        try:
            user = services.create_user(actor=None, username=options["username"], full_name=options["name"],
                                        roles=options["roles"], initial_password=password,
                                        email=options["email"], language=options["language"])
        except DomainError as exc:
            raise CommandError(exc.render()) from None
        self.stdout.write(f"Created {user.username} ({user.full_name}), roles: {', '.join(user.roles)}. "
                          "The password must be changed at first sign-in.")

    def _read_password(self, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask for the password: use --password-stdin.")
        first = getpass.getpass("Initial password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise CommandError("The two passwords differ.")
        return first

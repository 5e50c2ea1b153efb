"""The `batchline` command: Django's management commands under the product's name.

`batchline demo`, `batchline serve`, `batchline audit verify`, `batchline createuser`, and every
Django command (`batchline migrate`, `batchline check`, ...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "batchline.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["batchline", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()

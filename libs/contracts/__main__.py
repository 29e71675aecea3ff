"""``python -m opencpms_contracts asyncapi``: prints the AsyncAPI document."""

from __future__ import annotations

import json
import sys

from opencpms_contracts.asyncapi import document


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["asyncapi"]:
        print("usage: python -m opencpms_contracts asyncapi", file=sys.stderr)
        return 2
    print(json.dumps(document(), indent=2, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Writes a local `.env` with fresh secrets (used by `make run`); never overwrites one.

python -m justface.envfile .env
"""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet


def render() -> str:
    return "\n".join(
        [
            "# Written by `make run` for local development. Keep it out of git; see README for every setting.",
            "DJANGO_DEBUG=1",
            f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
            f"FIELD_ENCRYPTION_KEY={Fernet.generate_key().decode()}",
            f"FIELD_HASH_KEY={secrets.token_urlsafe(32)}",
            "",
        ]
    )


def main(argv: list[str]) -> int:
    target = Path(argv[1] if len(argv) > 1 else ".env")
    if target.exists():
        print(f"{target} exists; keeping it.")
        return 0
    target.write_text(render())
    target.chmod(0o600)
    print(f"Wrote {target} with fresh keys.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Stamp the portal's asset version into its HTML pages: /assets/<version>/… where the version is
a hash of every script and stylesheet. The gateway serves /assets/<version>/ from this folder with
a year's Cache-Control and the HTML with no-cache, so a changed file reaches every browser at its
next visit and an unchanged one is never fetched twice. Modules import each other by relative
paths, so the one version in the HTML carries them all.

    python3 portal/stamp_assets.py           rewrite index.html and console/index.html
    python3 portal/stamp_assets.py --check   exit 1 if they name another version (tests run this)

Standard library only: run it after changing any .js or .css here, before committing.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

PORTAL = Path(__file__).resolve().parent
PAGES = ("index.html", "console/index.html")
VERSIONED = re.compile(r"/assets/[0-9a-f]{12}/")


def version() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in PORTAL.rglob("*") if p.suffix in {".js", ".css"} and p.is_file()):
        digest.update(path.relative_to(PORTAL).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def stale_pages(current: str) -> list[str]:
    stale = []
    for name in PAGES:
        text = (PORTAL / name).read_text(encoding="utf-8")
        found = set(VERSIONED.findall(text))
        if found != {f"/assets/{current}/"}:
            stale.append(name)
    return stale


def main(argv: list[str]) -> int:
    current = version()
    stale = stale_pages(current)
    if "--check" in argv:
        if stale:
            print(f"stamp_assets: {', '.join(stale)} not stamped with {current}: run python3 portal/stamp_assets.py", file=sys.stderr)
            return 1
        return 0
    for name in stale:
        page = PORTAL / name
        page.write_text(VERSIONED.sub(f"/assets/{current}/", page.read_text(encoding="utf-8")), encoding="utf-8")
    print(current)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

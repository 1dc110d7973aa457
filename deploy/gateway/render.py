"""Render the gateway's nginx templates: replace ${CET_GW_NAME} from the environment, else from
defaults.env.

Only CET_GW_* names are touched (nginx's own $variables stay as they are), the same rule as the
official nginx image's envsubst filter, so one template serves `make up`, the e2e run and compose.
A name with no value anywhere is an error, never an empty string in the config.

    python3 deploy/gateway/render.py TEMPLATE > OUTPUT
    python3 deploy/gateway/render.py --prefix DIR     a local instance's folder: nginx.conf, cet.conf,
                                                      tmp/, the portal root; prints the nginx command

Standard library only: suite.sh runs it before any project venv exists.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from topology import load as load_topology, local_addresses  # noqa: E402 - deploy/ on the path first

DEFAULTS = HERE / "defaults.env"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PLACEHOLDER = re.compile(r"\$\{(CET_GW_[A-Z0-9_]+)\}")


def defaults() -> dict[str, str]:
    values = {}
    for line in DEFAULTS.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def render(template: str, env: dict[str, str]) -> str:
    values = {**defaults(), **{k: v for k, v in env.items() if k.startswith("CET_GW_")}}
    missing = sorted({name for name in PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise SystemExit(f"render.py: no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def portal_root(repo: Path, prefix: Path) -> Path:
    """The built portal (portal/dist), else its sources (portal/), else a placeholder page."""
    for candidate in (repo / "portal" / "dist", repo / "portal"):
        if (candidate / "index.html").is_file():
            return candidate
    placeholder = prefix / "placeholder"
    placeholder.mkdir(parents=True, exist_ok=True)
    (placeholder / "index.html").write_bytes((HERE / "placeholder-index.html").read_bytes())
    return placeholder


def worker_user(paths: Sequence[Path], writable: Sequence[Path] = ()) -> str:
    """Started as root, nginx runs its workers as `nobody` when that user can read what they serve
    and write the folders where it spools request bodies (a repo under /root, or a test's private
    temporary folder, is out of nobody's reach: then root's workers, on 127.0.0.1 only)."""
    if os.geteuid() != 0:
        return ""  # workers run as whoever started nginx

    def nobody_can(test: str, path: Path) -> bool:
        return subprocess.run(["runuser", "-u", "nobody", "--", "test", test, str(path)], capture_output=True).returncode == 0

    allowed = all(nobody_can("-r", p) for p in paths) and all(nobody_can("-w", p) for p in writable)
    return "user nobody nogroup;" if allowed else "user root root;"


# A replica that fails once is skipped for 2 s: the other replicas take its requests meanwhile.
LOCAL_SERVER_OPTIONS = "max_fails=1 fail_timeout=2s"


def local_upstreams() -> dict[str, str]:
    """Where the apis of `make up` listen (deploy/topology.toml); the e2e run overrides them."""
    topology = load_topology()
    return {"CET_GW_LISTEN": f"127.0.0.1:{topology.gateway_port}", **topology.gateway_env(local_addresses, server_options=LOCAL_SERVER_OPTIONS)}


def prepare(prefix: Path, env: dict[str, str]) -> list[str]:
    """Write a local instance's folder and return the command that runs it in the foreground."""
    repo = HERE.parent.parent
    for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    root = portal_root(repo, prefix)
    spools = [prefix / "tmp" / sub for sub in ("body", "proxy")]
    if os.geteuid() == 0:
        for folder in (prefix / "tmp").rglob("*"):
            shutil.chown(folder, "nobody", "nogroup")
    user = worker_user([root / "index.html"], writable=spools)
    local = {
        "CET_GW_PREFIX": str(prefix),
        "CET_GW_USER": user,
        "CET_GW_PORTAL_ROOT": str(root),
        "CET_GW_ERROR_LOG": str(prefix / "error.log"),
        "CET_GW_ACCESS_LOG": str(prefix / "access.log"),
        **local_upstreams(),
    }
    values = {**local, **{k: v for k, v in env.items() if k.startswith("CET_GW_")}}
    for name in ("cet.conf", "nginx.conf"):
        template = HERE / ("cet.conf.template" if name == "cet.conf" else "nginx.local.conf.template")
        text = render(template.read_text(encoding="utf-8"), values)
        tmp = prefix / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(prefix / name)
    conf = str(prefix / "nginx.conf")
    return [NGINX, "-p", str(prefix), "-c", conf, "-e", values["CET_GW_ERROR_LOG"], "-g", "daemon off;"]


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--prefix":
        command = prepare(Path(args[1]).resolve(), dict(os.environ))
        check = subprocess.run([*command[:-2], "-t", "-q"], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"render.py: nginx refuses the rendered config:\n{check.stderr}")
        print(shlex.join(command))
    elif len(args) == 1:
        sys.stdout.write(render(Path(args[0]).read_text(encoding="utf-8"), dict(os.environ)))
    else:
        raise SystemExit(__doc__)

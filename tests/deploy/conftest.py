"""The deployment checks: the cluster manifests (deploy/k8s) and docker-compose.yml, validated
offline (no cluster, no Docker engine)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

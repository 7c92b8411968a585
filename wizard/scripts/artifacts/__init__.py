"""The artifact registry: every file a bundle can hold, in run order.

`core` holds the AD FS and Lync/SfB Management Shell scripts; `network` holds the
certificate, reverse proxy, DNS, verification and rollback files; `estate` holds the
read-only state collector.
"""
from __future__ import annotations

from wizard.scripts.artifacts.core import ARTIFACTS as CORE_ARTIFACTS
from wizard.scripts.artifacts.core import Artifact
from wizard.scripts.artifacts.estate import ARTIFACTS as ESTATE_ARTIFACTS
from wizard.scripts.artifacts.network import ARTIFACTS as NETWORK_ARTIFACTS

# sorted() is stable: equal run orders keep their listing order (core first).
ARTIFACTS: list[Artifact] = sorted([*CORE_ARTIFACTS, *NETWORK_ARTIFACTS, *ESTATE_ARTIFACTS],
                                   key=lambda a: a.run_order)

__all__ = ["ARTIFACTS", "Artifact"]

"""The sandbox servers' latency knob: a reply leaves ``latency`` seconds after its request
arrived, with the server's own work inside that time (as on a real server), instead of after a
fixed sleep that the server's Python time would add to. A reply that took longer goes out at
once. Shared by the Vertex emulator, the AWS sandbox and the benchmarks' moto server.
"""

from __future__ import annotations

import time


def hold_reply(arrived: float, latency: float) -> None:
    """Sleep until ``arrived + latency`` (``time.monotonic()`` seconds), if that is ahead."""
    left = arrived + latency - time.monotonic()
    if latency > 0 and left > 0:
        time.sleep(left)

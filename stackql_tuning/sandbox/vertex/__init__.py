"""A local Vertex AI emulator (aiplatform v1 REST) for hyperparameterTuningJobs and tuningJobs.

Routes, request/response schemas and list shapes come from the discovery document shipped in
google-api-python-client; per-kind behaviour is the table in ``kinds.py``. Start one with::

    with VertexEmulator(seed=0) as emu:
        url = emu.url        # point the google client / the engine's google_endpoint here
"""

from stackql_tuning.sandbox.vertex.clock import Clock
from stackql_tuning.sandbox.vertex.emulator import VertexEmulator
from stackql_tuning.sandbox.vertex.errors import ApiError
from stackql_tuning.sandbox.vertex.store import Store

__all__ = ["ApiError", "Clock", "Store", "VertexEmulator"]

"""The AWS half of the sandbox: moto's SageMaker behind a gap layer on 127.0.0.1.

``AwsSandbox`` (server.py) is the entry point; what the sandbox adds to moto is listed in
``stackql_tuning/sandbox/README.md``. Importing this package does not import moto.
"""

from stackql_tuning.sandbox.aws.server import SANDBOX_KEY_ID, SANDBOX_SECRET, AwsSandbox

__all__ = ["SANDBOX_KEY_ID", "SANDBOX_SECRET", "AwsSandbox"]

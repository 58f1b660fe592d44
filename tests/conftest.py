"""Suite-wide guards: no test may reach beyond loopback, not even by a credential lookup.

Without credentials, google-auth probes the GCE metadata server and boto3 the EC2 instance
metadata service, both on a link-local address. Point the first at a closed loopback port and
switch the second off, so a test that forgets its sandbox credentials fails fast and locally.
The user cache directory (the trimmed SDK data, see transports/aws_data.py) is a fresh temporary
one, so tests neither read nor write the real ``~/.cache``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="stackql-tuning-tests-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)  # one was left per run

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("GCE_METADATA_HOST", "127.0.0.1:9")
os.environ.setdefault("GCE_METADATA_IP", "127.0.0.1:9")
os.environ.setdefault("NO_GCE_CHECK", "true")

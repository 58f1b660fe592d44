"""A trimmed copy of botocore's data for the AWS transport's clients, and sessions that read it.

Creating a SageMaker client with the stock loader decodes botocore's whole SageMaker model (2 MB)
and endpoints.json (1.2 MB), and lists 400+ service directories to check the service exists.
:func:`data_dir` builds, once per botocore version, a small directory under the user cache
(``$XDG_CACHE_HOME`` or ``~/.cache``, then ``stackql-tuning/botocore/<version>/``) with only what
our clients load:

- for each service we call: ``service-2`` pruned to the operations we use plus every shape they
  reach (and every exception shape: botocore maps any error code to one), and the service's
  ``endpoint-rule-set-1``;
- the top-level files botocore reads at client creation (:data:`TOP_LEVEL`), endpoints.json
  with only the services our sessions make clients for (ours and botocore's credential chain).

Building a directory also removes other botocore versions' directories that were not rebuilt
for 30 days, and temporary directories of builds that died (:func:`prune_cache`).

:func:`new_session` returns a boto3 session whose botocore ``data_loader`` is a
:class:`TrimmedLoader` (one for every session of the process with the same data path and
directory, so that each file is decoded once): it reads those files from the directory and
hands every other load to the stock loader (its ``response_parser_factory`` is
:mod:`~stackql_tuning.transports.aws_parse`'s, botocore's parser outside ``fast_read()``).
Anything unexpected (no writable cache, a missing or broken file, models of the user's own
under ``~/.aws/models`` or ``AWS_DATA_PATH``) means the stock loader, silently.
``STACKQL_TUNING_NO_SDK_CACHE=1`` turns the whole thing off.

Must not: change what a client does (same models, endpoints and defaults as stock), or fail
where the stock loader would not. Imports botocore: import this module lazily.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import boto3.session
import botocore
import botocore.session
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import Loader, create_loader

log = logging.getLogger(__name__)

#: bump when what is written changes: a directory of another format is rebuilt
FORMAT = 1
ENV_OFF = "STACKQL_TUNING_NO_SDK_CACHE"
MANIFEST = "stackql-tuning.json"
#: operations called beside the registry's: sts by the transport (role accounts, account check)
#: and AssumeRoleWithWebIdentity by botocore's own credential chain on our sessions
EXTRA_OPERATIONS: dict[str, tuple[str, ...]] = {
    "sts": ("AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"),
}
#: services botocore's credential providers make clients for on our sessions (their models
#: come from the stock loader; their endpoints.json entries are kept)
CREDENTIAL_SERVICES = ("sts", "sso", "sso-oidc", "signin")
#: top-level files botocore loads at client creation (``_retry`` in legacy retry mode only)
TOP_LEVEL = ("endpoints", "partitions", "sdk-default-configuration", "_retry")
#: per-service files botocore loads at client creation
SERVICE_FILES = ("service-2", "endpoint-rule-set-1")
#: a directory of another botocore version is removed once it was not rebuilt for this long
KEEP_OTHER_VERSIONS_DAYS = 30
#: a build's temporary directory still there after this long is left from a build that died
TEMP_DIR_HOURS = 1

Operations = Mapping[str, Iterable[str]]

_lock = threading.Lock()
_dirs: dict[tuple[str, frozenset[tuple[str, str]]], Path | None] = {}
_disabled = False
#: boto3 sessions reading trimmed data -> the kwargs to build their stock twin
_trimmed: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def enabled() -> bool:
    return not _disabled and os.environ.get(ENV_OFF, "") in ("", "0")


def disable() -> None:
    """Stock loader for every session this process makes from now on."""
    global _disabled
    _disabled = True


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stackql-tuning" / "botocore"


def with_extras(operations: Operations) -> dict[str, frozenset[str]]:
    """``operations`` plus :data:`EXTRA_OPERATIONS`, per service."""
    out = {svc: frozenset(ops) for svc, ops in operations.items()}
    for svc, ops in EXTRA_OPERATIONS.items():
        out[svc] = out.get(svc, frozenset()) | frozenset(ops)
    return out


def data_dir(operations: Operations) -> Path | None:
    """The trimmed data directory holding at least ``operations`` (service -> operation names,
    :data:`EXTRA_OPERATIONS` added), built when missing; None when off or it cannot be had."""
    if not enabled():
        return None
    ops = with_extras(operations)
    key = (str(cache_root()), frozenset((s, o) for s, names in ops.items() for o in names))
    with _lock:
        if key not in _dirs:
            try:
                _dirs[key] = _ensure(cache_root() / botocore.__version__, ops)
            except Exception as e:  # no cache dir, read-only home, unexpected botocore data
                log.debug("trimmed botocore data unavailable: %s: %s", type(e).__name__, e)
                _dirs[key] = None
        return _dirs[key]


def _read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    if data.get("botocore") != botocore.__version__:
        return None
    return data


def _covers(manifest: dict[str, Any] | None, ops: Mapping[str, frozenset[str]]) -> bool:
    if manifest is None:
        return False
    have = manifest.get("operations", {})
    return all(names <= set(have.get(svc, ())) for svc, names in ops.items())


def _ensure(root: Path, ops: Mapping[str, frozenset[str]]) -> Path | None:
    old = _read_manifest(root)
    if _covers(old, ops):
        return root
    # keep what the directory held: processes with other registries must not take turns
    merged = {svc: set(names) for svc, names in ops.items()}
    for svc, names in (old or {}).get("operations", {}).items():
        merged.setdefault(svc, set()).update(names)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        write(tmp, {svc: frozenset(names) for svc, names in merged.items()})
        _publish(tmp, root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    prune_cache(root)
    return root if _covers(_read_manifest(root), ops) else None


def prune_cache(keep: Path, now: float | None = None) -> list[Path]:
    """Remove what ``keep``'s siblings left behind; the paths removed.

    Runs when a directory is built (a new botocore version, or new operations), never on the
    path of a plain start-up. Removes the directories of other botocore versions not rebuilt
    for :data:`KEEP_OTHER_VERSIONS_DAYS` (another environment still on one rebuilds it once,
    in about a second), and temporary directories of builds that died (older than an hour:
    a build in progress takes seconds). Anything it cannot remove stays.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        siblings = list(keep.parent.iterdir())
    except OSError:
        return removed
    for path in siblings:
        if path == keep or not path.is_dir():
            continue
        if path.name.startswith("."):
            age_limit, stamp = TEMP_DIR_HOURS * 3600, path
        else:
            age_limit, stamp = KEEP_OTHER_VERSIONS_DAYS * 86400, path / MANIFEST
        try:
            age = now - stamp.stat().st_mtime
        except OSError:  # no manifest: not a directory of ours
            continue
        if age > age_limit:
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    if removed:
        log.debug("removed old trimmed botocore data: %s", ", ".join(p.name for p in removed))
    return removed


def _publish(tmp: Path, root: Path) -> None:
    """Move the finished ``tmp`` to ``root`` (readers see the old directory, none, or the new)."""
    try:
        os.replace(tmp, root)
        return
    except OSError:  # root exists: move it aside first
        pass
    trash = Path(tempfile.mkdtemp(prefix=".old.", dir=root.parent))
    try:
        os.replace(root, trash)
        os.replace(tmp, root)
    except OSError:  # another process published meanwhile: theirs stands
        pass
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def write(target: Path, ops: Mapping[str, frozenset[str]]) -> None:
    """Write the trimmed data for ``ops`` into the directory ``target`` (manifest last)."""
    src = Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False)
    prefixes: set[str] = set()
    for service in sorted(ops):
        for type_name in SERVICE_FILES:
            version = src.determine_latest_version(service, type_name)
            data = src.load_service_model(service, type_name, version)
            if type_name == "service-2":
                prefixes.add(data["metadata"].get("endpointPrefix", service))
                data = prune_model(data, ops[service])
            _dump(target / service / version / f"{type_name}.json", data)
    for service in CREDENTIAL_SERVICES:
        try:
            meta = src.load_service_model(service, "service-2")["metadata"]
        except (DataNotFoundError, UnknownServiceError):  # not in this botocore version
            continue
        prefixes.add(meta.get("endpointPrefix", service))
    top = []
    for name in TOP_LEVEL:
        try:
            data = src.load_data(name)
        except DataNotFoundError:  # not shipped by this botocore version: stock loads it
            continue
        if name == "endpoints":
            data = prune_endpoints(data, prefixes)
        _dump(target / f"{name}.json", data)
        top.append(name)
    manifest = {
        "format": FORMAT,
        "botocore": botocore.__version__,
        "operations": {svc: sorted(names) for svc, names in sorted(ops.items())},
        "top_level": top,
    }
    _dump(target / MANIFEST, manifest)


def _refs(shape: Mapping[str, Any]) -> list[str]:
    kind = shape.get("type")
    if kind == "structure":
        return [m["shape"] for m in shape.get("members", {}).values()]
    if kind == "list":
        return [shape["member"]["shape"]]
    if kind == "map":
        return [shape["key"]["shape"], shape["value"]["shape"]]
    return []


def prune_model(model: Mapping[str, Any], operations: Iterable[str]) -> dict[str, Any]:
    """``model`` (a service-2 dict) with only ``operations`` and the shapes they reach."""
    wanted = set(operations)
    ops = model["operations"]
    kept = {name: op for name, op in ops.items() if name in wanted}
    if any(op.get("endpointdiscovery") for op in kept.values()):
        kept.update({n: op for n, op in ops.items() if op.get("endpointoperation")})
    shapes = model["shapes"]
    todo = [name for name, s in shapes.items() if s.get("exception")]
    for op in kept.values():
        todo += [op[k]["shape"] for k in ("input", "output") if k in op]
        todo += [e["shape"] for e in op.get("errors", ())]
    reached: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(_refs(shapes[name]))
    out = dict(model)
    out["operations"] = kept
    out["shapes"] = {name: s for name, s in shapes.items() if name in reached}
    return out


def prune_endpoints(data: Mapping[str, Any], prefixes: set[str]) -> dict[str, Any]:
    """endpoints.json with only the services whose endpoint prefix is in ``prefixes``."""
    out = dict(data)
    out["partitions"] = [
        {**p, "services": {k: v for k, v in p.get("services", {}).items() if k in prefixes}}
        for p in data["partitions"]
    ]
    return out


class TrimmedLoader(Loader):  # type: ignore[misc]
    """botocore's Loader over the trimmed directory for the files it holds; every other load
    (other services, paginators, waiters) and any load of ours that fails goes to ``stock``.

    Its search path is the directory (plus what boto3 appends), so ``list_available_services``
    lists our services only and costs a few ``listdir`` calls."""

    def __init__(self, root: Path, stock: Loader) -> None:
        super().__init__(extra_search_paths=[str(root)], include_default_search_paths=False)
        manifest = _read_manifest(root)
        if manifest is None:
            raise DataNotFoundError(data_path=str(root / MANIFEST))
        self.root = str(root)
        self.stock = stock
        self.services = frozenset(manifest["operations"])
        self.top_level = frozenset(manifest.get("top_level", ()))
        self._broken = False

    def _delegate(self) -> Loader:
        # what boto3 appended to our search path (its own data) the stock loader gets too
        for path in self.search_paths[1:]:
            if path not in self.stock.search_paths:
                self.stock.search_paths.append(path)
        return self.stock

    def _owns(self, name: str) -> bool:
        parts = name.split("/")
        if len(parts) == 1:
            return name in self.top_level
        return (
            len(parts) == 3
            and parts[0] in self.services
            and parts[2].split(".")[0] in SERVICE_FILES
        )

    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        if not self._broken and service_name in self.services and type_name in SERVICE_FILES:
            try:
                return super().load_service_model(service_name, type_name, api_version)
            except Exception as e:
                self._fall_back(service_name, e)
        return self._delegate().load_service_model(service_name, type_name, api_version)

    def load_data_with_path(self, name: str) -> Any:
        if self._broken or not self._owns(name):
            return self._delegate().load_data_with_path(name)
        if "/" in name:
            # a service file or its extras: a failure fails the whole load_service_model
            # above, which then goes to the stock loader (never our model + stock extras)
            return super().load_data_with_path(name)
        try:
            return super().load_data_with_path(name)
        except Exception as e:
            self._fall_back(name, e)
            return self._delegate().load_data_with_path(name)

    def _fall_back(self, what: str, e: Exception) -> None:
        log.debug("trimmed botocore data: %s failed (%s: %s)", what, type(e).__name__, e)
        self._broken = True

    def is_builtin_path(self, path: str) -> bool:
        # our files are botocore's own data, trimmed: stock endpoint resolution treats them so
        inside = os.path.abspath(path).startswith(self.root + os.sep)
        return inside or bool(super().is_builtin_path(path))


def _customized(paths: Iterable[str], services: Iterable[str]) -> bool:
    """Whether a search path other than botocore's own holds data for our files."""
    names = list(services)
    for path in paths:
        if os.path.abspath(path) == os.path.abspath(Loader.BUILTIN_DATA_PATH):
            continue
        if any(os.path.isdir(os.path.join(path, s)) for s in names):
            return True
        for top in TOP_LEVEL:
            if any(os.path.exists(os.path.join(path, top + ext)) for ext in (".json", ".json.gz")):
                return True
    return False


#: (data path, operations) -> the loader every session of the process with them shares
_loaders: dict[Any, Any] = {}
_loaders_lock = threading.Lock()


def _loader_factory(session: Any, operations: Operations) -> Any:
    """The session's ``data_loader``: one per data path (and operations) for the process.

    A botocore loader keeps every file it decoded; a loader per session decoded the same
    model files (JSON) again for each session's first client, ~4 ms of the ~11 ms a SageMaker
    client took to make here. The files do not change while the process runs."""

    def create() -> Any:
        # as botocore's own: config errors (an unknown profile) surface here, as they would
        data_path = session.get_config_variable("data_path")
        try:
            root = data_dir(operations)
        except Exception as e:
            log.debug("trimmed botocore data not used: %s: %s", type(e).__name__, e)
            root = None
        ops = tuple(sorted((k, tuple(sorted(v))) for k, v in operations.items()))
        key = (data_path, None if root is None else str(root), ops)
        with _loaders_lock:
            loader = _loaders.get(key)
            if loader is None:
                loader = _loaders[key] = _new_loader(data_path, root, operations)
        return loader

    return create


def _new_loader(data_path: Any, root: Path | None, operations: Operations) -> Any:
    stock = create_loader(data_path)
    try:
        if root is None or _customized(stock.search_paths, with_extras(operations)):
            return stock
        return TrimmedLoader(root, stock)
    except Exception as e:
        log.debug("trimmed botocore data not used: %s: %s", type(e).__name__, e)
        return stock


_hooks: dict[str, Any] = {}
_hooks_lock = threading.Lock()


def _builtin_hooks() -> Any:
    """A copy of an event emitter holding botocore's built-in handlers, registered once per
    process. A botocore session registers ~130 of them when it is made, each checked with
    ``inspect`` (~15-20 ms here); copying the registered table (as botocore does for every
    client it makes) gives each session the same handlers of its own. Used only while no
    session initializer is registered (``botocore.register_initializer``)."""
    with _hooks_lock:
        if "builtin" not in _hooks:
            from botocore.hooks import HierarchicalEmitter

            emitter = HierarchicalEmitter()
            botocore.session.Session(event_hooks=emitter)  # registers them into ``emitter``
            _hooks["builtin"] = emitter
        return copy.copy(_hooks["builtin"])


def _core_session(endpoint_url: str | None = None) -> Any:
    """A botocore session with our parser; every client it creates goes to ``endpoint_url``
    when one is given (:func:`_pin_endpoint`)."""
    from stackql_tuning.transports.aws_parse import FastParserFactory

    if getattr(botocore, "_INITIALIZERS", None) == []:
        hooks = _builtin_hooks()
        core = botocore.session.Session(event_hooks=hooks, include_builtin_handlers=False)
    else:  # a plugin's session initializers would register their handlers twice on a copy
        core = botocore.session.get_session()
    core.register_component("response_parser_factory", FastParserFactory())
    if endpoint_url:
        _pin_endpoint(core, endpoint_url)
    return core


def new_session(operations: Operations, endpoint_url: str | None = None, **kwargs: Any) -> Any:
    """``boto3.session.Session(**kwargs)`` whose clients load the trimmed data when they can.

    ``endpoint_url`` (the sandbox's, or an override) is where every client of the session
    goes, those botocore makes itself included: a profile's ``role_arn`` is assumed through an
    STS client of botocore's own, which went to the real ``sts.amazonaws.com`` with the
    profile's credentials while every other call went to the sandbox.
    """
    core = _core_session(endpoint_url)
    if enabled():
        core.lazy_register_component("data_loader", _loader_factory(core, operations))
    session = boto3.session.Session(botocore_session=core, **kwargs)
    if isinstance(core.get_component("data_loader"), TrimmedLoader):
        _trimmed[session] = dict(kwargs, endpoint_url=endpoint_url)
    return session


def _pin_endpoint(core: Any, endpoint_url: str) -> None:
    """Every client ``core`` creates without an endpoint of its own goes to ``endpoint_url``."""
    create = core.create_client

    def create_client(service_name: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("endpoint_url") is None and len(args) < 5:
            kwargs["endpoint_url"] = endpoint_url
        return create(service_name, *args, **kwargs)

    core.create_client = create_client


def stock_twin(session: Any) -> Any | None:
    """A stock-loader session with the kwargs ``session`` was made with; None when ``session``
    already reads stock data."""
    kwargs = _trimmed.get(session)
    if kwargs is None:
        return None
    kwargs = dict(kwargs)
    core = _core_session(kwargs.pop("endpoint_url", None))
    return boto3.session.Session(botocore_session=core, **kwargs)

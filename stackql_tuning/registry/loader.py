"""Loading the committed definitions under ``providers/`` into the registry model.

Reads JSON only (fast start: the SDKs' API definitions are never parsed at run time), lazily:
a resource file is read the first time that resource is named. No network, no SDK imports.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from stackql_tuning.errors import Location, PlanError, did_you_mean
from stackql_tuning.registry.model import Resource


def default_root() -> Path:
    """Where the definitions are: $STACKQL_TUNING_PROVIDERS, the wheel's copy, or the checkout."""
    env = os.environ.get("STACKQL_TUNING_PROVIDERS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_providers"
    if packaged.is_dir():
        return packaged
    return here.parent / "providers"


@dataclass(frozen=True)
class Service:
    provider: str
    name: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.provider}.{self.name}"

    @property
    def resource_names(self) -> list[str]:
        return list(self.data.get("resources", []))

    @property
    def title(self) -> str:
        return str(self.data.get("title", self.name))

    @property
    def version(self) -> str:
        return str(self.data.get("version", ""))


@dataclass(frozen=True)
class Provider:
    name: str
    data: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.data.get("version", ""))

    @property
    def service_names(self) -> list[str]:
        return list(self.data.get("services", []))

    @property
    def transport(self) -> str:
        return str(self.data.get("transport", self.name))


class Registry:
    """All providers, services and resources under one definitions root."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self._resources: dict[str, Resource] = {}
        self._services: dict[str, Service] = {}

    # -- providers and services -------------------------------------------------------------
    @cached_property
    def providers(self) -> dict[str, Provider]:
        out: dict[str, Provider] = {}
        if not self.root.is_dir():
            return out
        for entry in sorted(self.root.iterdir()):
            f = entry / "provider.json"
            if f.is_file():
                out[entry.name] = Provider(entry.name, json.loads(f.read_text()))
        return out

    def provider(self, name: str) -> Provider:
        p = self.providers.get(name.lower())
        if p is None:
            raise PlanError(
                f"unknown provider {name!r}; known providers: {', '.join(self.providers)}",
                hint=did_you_mean(name, self.providers) or "SHOW PROVIDERS",
            )
        return p

    def service(self, provider: str, name: str) -> Service:
        key = f"{provider.lower()}.{name.lower()}"
        if key in self._services:
            return self._services[key]
        prov = self.provider(provider)
        if name.lower() not in prov.service_names:
            raise PlanError(
                f"unknown service {provider}.{name}; services of {prov.name}: "
                f"{', '.join(prov.service_names)}",
                hint=did_you_mean(name, prov.service_names) or f"SHOW SERVICES IN {prov.name}",
            )
        f = self.root / prov.name / name.lower() / "service.json"
        svc = Service(prov.name, name.lower(), json.loads(f.read_text()))
        self._services[key] = svc
        return svc

    def services(self, provider: str) -> list[Service]:
        prov = self.provider(provider)
        return [self.service(prov.name, s) for s in prov.service_names]

    # -- resources ----------------------------------------------------------------------------
    def resource(self, ref: str) -> Resource:
        """The resource named ``provider.service.resource``; a PlanError with close names."""
        key = ref.lower()
        if key in self._resources:
            return self._resources[key]
        parts = key.split(".")
        if len(parts) != 3:
            raise PlanError(
                f"{ref!r} is not a resource name: expected provider.service.resource",
                hint="SHOW RESOURCES IN google.aiplatform",
            )
        prov, svc_name, res_name = parts
        svc = self.service(prov, svc_name)
        if res_name not in svc.resource_names:
            raise PlanError(
                f"unknown resource {ref}; resources of {svc.id}: {', '.join(svc.resource_names)}",
                location=Location(resource=ref),
                hint=did_you_mean(res_name, svc.resource_names) or f"SHOW RESOURCES IN {svc.id}",
            )
        f = self.root / svc.provider / svc.name / f"{res_name}.json"
        res = Resource.from_json(json.loads(f.read_text()))
        self._resources[key] = res
        return res

    def resources(self, provider: str, service: str) -> list[Resource]:
        svc = self.service(provider, service)
        return [self.resource(f"{svc.id}.{r}") for r in svc.resource_names]

    def all_resources(self) -> list[Resource]:
        out: list[Resource] = []
        for prov in self.providers.values():
            for svc in prov.service_names:
                out.extend(self.resources(prov.name, svc))
        return out

    def param_names(self) -> set[str]:
        """Every parameter name of every resource's methods (what config defaults may name)."""
        return {p.name for r in self.all_resources() for m in r.methods for p in m.params}

    @cached_property
    def naming_params(self) -> frozenset[str]:
        """The params that name one resource: a get requires them, its resource's list does
        not (``HyperParameterTuningJobName``, ``hyperparameterTuningJobsId``; not a project, a
        location or a region). A list that requires one lists that resource's children."""
        out: set[str] = set()
        for r in self.all_resources():
            reads = r.methods_for("SELECT")
            listed = {p for m in reads if m.is_list for p in m.required_params}
            for m in reads:
                if not m.is_list:
                    client = {p.name for p in m.params if p.location == "client"}
                    out |= set(m.required_params) - listed - client
        return frozenset(out)

    def is_resource(self, ref: str) -> bool:
        try:
            self.resource(ref)
        except PlanError:
            return False
        return True


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry over :func:`default_root` (loaded lazily, cached)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Registry()
    return _DEFAULT

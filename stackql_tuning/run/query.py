"""Running a planned query: expand slots into calls, fetch them, materialize, run the SQL.

Stages run in dependency order (a dependent join's table after the table it reads values
from); within a stage every call chain of every slot shares one scheduler run. Hydration gets
are queued as the list pages that need them arrive.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlglot import exp

from stackql_tuning.errors import FailedCall, PlanError, ProviderError
from stackql_tuning.plan.bindings import VIEW, unqualified
from stackql_tuning.plan.columns import identity_fields
from stackql_tuning.plan.mutate import split_identity
from stackql_tuning.plan.rewrite import to_duckdb_sql
from stackql_tuning.plan.select import QueryPlan, Slot
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Method, Resource, param_sources
from stackql_tuning.run.loader import TableLoader
from stackql_tuning.run.row_values import keep_nameable
from stackql_tuning.run.scheduler import RunStats, Scheduler, Started
from stackql_tuning.run.store import Store, TableSchema, duckdb_error, q, qualified
from stackql_tuning.transports.base import (
    Call,
    Page,
    case_only_difference,
    reply_identity,
    reply_json,
)

if TYPE_CHECKING:
    from stackql_tuning.session import Session


def statement_deadline(session: Session) -> float | None:
    """When the running statement's ``--timeout`` passes (``time.monotonic()``), or None."""
    timeout = session.settings.timeout
    return session.statement_started + timeout if timeout else None


def slot_calls(slot: Slot, store: Store | None) -> list[Call]:
    """The calls of a slot: the cartesian product of its static values and dependent rows
    (read from ``store``, which only a dependent slot needs)."""
    if slot.skip:
        return []
    # a value of a param the method does not take, which each row holds itself (a job's id
    # IN (a, b) beside a list-only pageSize), is the WHERE's to test: a list call per value
    # gave each job once per value, each copy labelled with one of them
    names = [n for n in slot.static if slot.method.param(n) is not None or not _in_row(slot, n)]
    static_combos = list(itertools.product(*(slot.static[n] for n in names))) or [()]
    dep_combos: list[dict[str, Any]] = [{}]
    by_source: dict[str, list[tuple[str, str]]] = {}
    for param, (src, col) in slot.dependent.items():
        if param in slot.static:
            continue
        by_source.setdefault(src, []).append((param, col))
    for src, pairs in by_source.items():
        assert store is not None, "a dependent slot reads its values from the store"
        view = slot.view_sources.get(src)
        # a view's rows are its query's, over the tables of the stages before this one
        source = qualified(src) if view is None else f"({to_duckdb_sql(view[0].this)})"
        guessed = view is not None and VIEW not in view[0].meta
        if guessed and slot.located:
            # a CTE's or subquery's columns were worked out from the statement: a located param
            # whose column the source lacks is left out of its calls (no value to take)
            described = _read_source(store, src, f"DESCRIBE SELECT * FROM {source} AS v")
            have = {str(r[0]).lower() for r in described}
            pairs = [(p, c) for p, c in pairs if p not in slot.located or c.lower() in have]
        if not pairs:
            continue
        rows = _read_source(store, src, _values_sql(source, pairs, slot.source_filters.get(src)))
        new: list[dict[str, Any]] = []
        for base in dep_combos:
            for row in rows:
                d = dict(base)
                d.update({param: value for (param, _), value in zip(pairs, row, strict=True)})
                new.append(d)
        dep_combos = new
    # with partial responses (reply_fields set), a hydrating list asks only for what its gets
    # need; the gets ask for the slot's reply_fields
    fields = slot.reply_fields
    if slot.hydrate is not None and fields is not None:
        fields = identity_fields(slot.resource, slot.hydrate) or fields
        if slot.hydrates_first:  # and what the conditions that pick the rows to get read
            fields = tuple(dict.fromkeys(fields + _first_fields(slot)))
    calls: list[Call] = []
    for combo in static_combos:
        for dep in dep_combos:
            params = dict(zip(names, combo, strict=True))
            params.update(dep)
            params.update(slot.pushed)
            calls.append(Call(slot.resource, slot.method, params, reply_fields=fields))
    return calls


def _in_row(slot: Slot, param: str) -> bool:
    """Whether each row of ``slot``'s table holds ``param``'s value itself: a field of that
    name, or a param column read from a field (the identity's template, a param source)."""
    resource = slot.resource
    held = {p.lower() for p in [*resource.identity_params, *param_sources(resource)]}
    return resource.column(param) is not None or param.lower() in held


def _first_fields(slot: Slot) -> tuple[str, ...]:
    """The fields that the conditions and ORDER BY keys of a slot that filters its listed
    rows before getting them read (``plan.hydrate_first``)."""
    exprs = [*slot.hydrate_where, *slot.hydrate_order]
    read = {c.name.lower() for e in exprs for c in e.find_all(exp.Column)}
    return tuple(c.name for c in TableSchema(slot.resource, read=read).loaded if not c.derive)


#: stands for a dependent source in the SQL of its filters, until its own SQL replaces it
_SOURCE = "__stackql_tuning_source__"


def _values_sql(source: str, pairs: list[tuple[str, str]], filters: list[Any] | None) -> str:
    """The distinct values of ``pairs``' columns in ``source``'s rows that its ``filters`` (the
    statement's WHERE conjuncts over it alone) keep, NULLs left out: a NULL in a column the
    join reads, or in one that locates the calls, names no call."""
    rows = f"{source} AS v"
    if filters:
        # a query of its own, so that DuckDB SQL is made of the conjuncts as of the statement's
        # WHERE (json_extract's SQLite semantics, a bare value as a condition)
        query = exp.Select(
            expressions=[exp.Star()],
            from_=exp.From(this=exp.Table(this=exp.to_identifier(_SOURCE), alias="v")),
            where=exp.Where(this=exp.and_(*(f.copy() for f in filters))),
        )
        rows = f"({to_duckdb_sql(query).replace(_SOURCE, source, 1)}) AS v"
    cols = ", ".join(q(col) for _, col in pairs)
    not_null = " AND ".join(f"{q(col)} IS NOT NULL" for _, col in pairs)
    return f"SELECT DISTINCT {cols} FROM {rows} WHERE {not_null} ORDER BY ALL"


def _read_source(store: Store, label: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` over a dependent join's source ``label``; DuckDB's error, as the
    user's (an error the source's own SQL raises, or a column of an outer query's row)."""
    try:
        return store.execute(sql)
    except store.duckdb.Error as e:
        error = duckdb_error(e, sql)
        error.message = f"cannot read the rows of {label} for a dependent join: {error.message}"
        if isinstance(error, PlanError) and not error.hint:  # not bound: an outer row's?
            error.hint = (
                "a dependent join's source is read on its own, before the join: it must not "
                "refer to a column of an outer query's row"
            )
        raise error from None


def apply_reply_fields(slots: Iterable[Slot]) -> None:
    """Set each slot's ``reply_fields``: the fields its table loads (``TableSchema.loaded``,
    which adds what derived and param columns come from and the identity), without the
    derived columns themselves. Left None when the statement reads every column."""
    for slot in slots:
        if slot.columns is not None:
            loaded = TableSchema(slot.resource, read=slot.columns).loaded
            slot.reply_fields = tuple(c.name for c in loaded if not c.derive)


def identity_params(
    resource: Resource, get: Method, item: dict[str, Any], base: dict[str, Any]
) -> dict[str, Any]:
    """The params of ``get`` for one list item: from the call, same-named fields, or the name."""
    out: dict[str, Any] = {}
    ident = resource.identity
    parsed: dict[str, str] = {}
    if ident.get("template") and ident.get("column") in item:
        parsed = split_identity(str(ident["template"]), str(item[ident["column"]])) or {}
    for p in get.params:
        if not p.required:
            continue
        if p.name in item:
            out[p.name] = item[p.name]
        elif p.name in parsed:
            out[p.name] = parsed[p.name]
        elif p.name in base:
            out[p.name] = base[p.name]
    for k, v in base.items():
        if get.param(k) is not None and k not in out:
            out[k] = v
    return out


@dataclass
class StartedStage:
    """A stage whose calls were started (:meth:`QueryRun.begin`; early, or when its turn came)
    and whose replies wait for :meth:`QueryRun.fill` to read them."""

    stage: list[Slot]
    by_call: dict[int, Slot]
    started: Started
    #: slot name -> its early LIMIT (the slots that have one)
    limits: dict[str, int]

    def abort(self) -> None:
        self.started.abort()


class QueryRun:
    """One statement's fetch-and-materialize work."""

    def __init__(self, session: Session, plan: QueryPlan) -> None:
        self.session = session
        self.plan = plan
        self.fetcher = session.fetcher
        self.stats = RunStats()

    @property
    def store(self) -> Store:
        """The session's store (made on first use: :meth:`begin_early` does not need it)."""
        return self.session.store  # type: ignore[no-any-return]

    def _schema(self, slot: Slot) -> TableSchema:
        """The slot's table: the columns the statement reads (all, without projection)."""
        read = slot.columns if self.session.settings.projection else None
        return TableSchema(slot.resource, read=read)

    def create_tables(self, *, narrow: bool = True) -> None:
        """The empty provider tables: with only the columns the statement reads (``narrow``),
        or with every column (what a statement that DuckDB cannot bind first is run against:
        an unknown column's message then names every column it could have meant)."""
        for slot in self.plan.slots:
            schema = self._schema(slot) if narrow else TableSchema(slot.resource)
            self.store.create_table(slot.name, schema)

    def load_every_column(self) -> None:
        """Read every field of every slot from here on (projection missed a column)."""
        for slot in self.plan.slots:
            slot.columns = None
            slot.reply_fields = None

    def fill(self, early: StartedStage | None = None) -> RunStats:
        """Fetch and load every stage (the first one from ``early`` when it was started
        before the store was ready)."""
        for i, stage in enumerate(self.plan.stages()):
            begun = early if i == 0 and early is not None else self.begin(stage)
            self._finish_stage(begun)
        return self.stats

    def begin_early(self) -> StartedStage | None:
        """Start fetching the first stage now, before the store is ready (None when that stage
        needs rows from the store: a dependent slot). Nothing is read into the store until
        :meth:`fill`; :meth:`StartedStage.abort` drops it all."""
        stages = self.plan.stages()
        if not stages or any(s.dependent for s in stages[0]):
            return None
        return self.begin(stages[0])

    def begin(self, stage: list[Slot]) -> StartedStage:
        """Build ``stage``'s calls (each checked before the first is sent) and start them."""
        by_call: dict[int, Slot] = {}
        calls: list[Call] = []
        for slot in stage:
            for call in slot_calls(slot, self.store if slot.dependent else None):
                by_call[id(call)] = slot
                calls.append(call)

        # every call is built and checked (path values, hosts) before the first is sent; a
        # name or id read from rows that no resource can have names nothing (no call)
        def failed(e: PlanError, call: Call) -> PlanError:
            return _from_defaults(e, call, by_call[id(call)], self.session)

        calls, warnings = keep_nameable(self.fetcher, self.session.registry, calls, by_call, failed)
        self.stats.warnings += warnings
        # each table's rows counted apart (a view's branches in one stage each stop at their
        # own LIMIT); a branch skipped (no calls) has none
        limits = {s.name: s.limit for s in stage if s.limit is not None and not s.skip}
        follow_ups = any(slot.hydrate is not None for slot in stage)
        started = self._scheduler().start(
            calls,
            follow_ups=follow_ups,
            limits=limits,
            group_of=lambda call: by_call[id(call)].name,
        )
        return StartedStage(stage, by_call, started, limits)

    def _scheduler(self) -> Scheduler:
        settings = self.session.settings
        deadline = statement_deadline(self.session)
        progress = None
        if self.session.progress is not None:
            from stackql_tuning.session import Progress

            cb = self.session.progress

            def progress(done: int, total: int, rows: int, pages: int) -> None:
                cb(Progress(done, total, rows, pages))

        return Scheduler(
            self.fetcher.fetch,
            concurrency=settings.concurrency,
            per_host=settings.per_host,
            host_of=self.fetcher.host_of,
            page_limit=settings.page_limit,
            deadline=deadline,
            cancelled=lambda: self.session.cancelled,
            progress=progress,
        )

    def _finish_stage(self, begun: StartedStage) -> None:
        stage, by_call = begun.stage, begun.by_call
        files = {
            s.name: TableLoader(
                self.store,
                s.name,
                self._schema(s),
                s.method.items_key if s.hydrate is None else None,
            )
            for s in stage
        }
        #: slots whose listed rows are filtered before they are got: their list pages, and
        #: the gets of every listed row by its key (``plan.hydrate_first``)
        first: dict[str, _KeptFirst] = {}
        count_rows = bool(begun.limits) or self.session.progress is not None
        #: per slot, the resources its gets answered with: a second get answered with one of
        #: them (IN ('myjob', 'MyJob'), a project by id and by number) adds no second row
        answered: dict[str, dict[tuple[Any, ...], str | None]] = {s.name: {} for s in stage}

        #: the slots whose early LIMIT counts only the rows that pass its conditions, and
        #: their SQL (``plan.limit``); "" once DuckDB could not count a page
        counted = {
            s.name: to_duckdb_sql(exp.and_(*(c.copy() for c in s.limit_where)))
            for s in stage
            if s.limit_where and s.name in begun.limits
        }

        def keep(f: TableLoader, slot: Slot, call: Call, page: Page, key: str) -> int:
            """Hand ``page`` to ``f``; the rows it holds (when they are counted), or those of
            them that pass the slot's early LIMIT conditions."""
            origin = (call.resource.id, call.method.name, call.describe_params())
            if page.next_token is None and begun.started.last_round():
                f.last_round()  # a chain ended and no other starts: load pages as they come
            params = _row_params(call, slot)
            raw = page.raw
            if raw is not None:
                rows = len(_items(call, page)) if count_rows else 0
            else:
                obj = page.obj or {}
                raw = reply_json(obj)  # the bytes the loader and a count both read
                rows = len(obj.get(call.method.items_key or "", []) if key == "r" else [obj])
            f.add_raw(params, raw, key, origin)
            where = counted.get(slot.name)
            if where is None or not rows:
                return rows
            if not where:
                return 0  # DuckDB could not count: no row counts, every page is fetched
            items_key = call.method.items_key if key == "r" else None
            passed = self.store.count_where(f.schema, params, raw, key, items_key, where)
            if passed is None:  # the statement's run says what failed, over every row
                counted[slot.name] = ""
                return 0
            return passed

        def sink(call: Call, page: Page) -> tuple[Iterable[Call], int]:
            slot = by_call[id(call)]
            if slot.hydrate is not None and call.method is slot.method:
                follow = []
                hydrate = slot.hydrate
                # the list's params the get does not take (StatusEquals, filter) stay the row's
                # columns: a row without them failed the WHERE that bound them (0 rows, exit 0)
                only_list = {k: v for k, v in call.params.items() if hydrate.param(k) is None}
                kept = first.get(slot.name)
                for item in _items(call, page):
                    params = identity_params(slot.resource, hydrate, item, call.params)
                    missing = [p for p in hydrate.required_params if params.get(p) is None]
                    if missing:  # it was a plan error ("get needs parameter ..."), naming no call
                        raise ProviderError(
                            f"{call.label}: bad reply: an item of the list names no "
                            f"{' or '.join(missing)} (nor a "
                            f"{slot.resource.identity.get('column') or 'name'} to read it "
                            "from), so its get cannot be made"
                        )
                    get = Call(
                        slot.resource,
                        hydrate,
                        params,
                        reply_fields=slot.reply_fields,
                        row_params=only_list or None,
                    )
                    by_call[id(get)] = slot
                    if kept is not None:
                        kept.hold(get, item, call)
                    else:
                        follow.append(get)
                if kept is not None:
                    keep(kept.loader, slot, call, page, "r")
                return follow, 0
            key = "r" if call.method.is_list else "o"
            if (
                key == "o"
                and slot.hydrate is None
                and _answered_before(answered[slot.name], call, page)
            ):
                return (), 0
            return (), keep(files[slot.name], slot, call, page, key)

        try:
            for s in stage:
                if s.hydrates_first:
                    first[s.name] = _KeptFirst(self.store, s)
            with self.store.fetching():
                stats = begun.started.drain(sink)
                counted_gets = [k for k in first.values() if k.counts]
                gets = [g for kept in first.values() if not kept.counts for g in kept.gets(stats)]
                if gets:  # the rows the statement can return, got now
                    started = self._scheduler().start(gets, follow_ups=False)
                    stats.add(started.drain(sink))
                for kept in counted_gets:  # those of a LIMIT: until its rows have come
                    self._get_until_counted(kept, files[kept.slot.name].schema, sink, stats)
            # a name asked for only in another case: the row may be dropped by the WHERE
            stats.warnings += [n for by in answered.values() for n in by.values() if n]
            for loader in files.values():
                loader.finish()
                stats.failures.extend(loader.failures)  # pages that could not be read
            self._merge(stats)
        except BaseException:
            begun.abort()  # its workers stop (a failure before the drain left them running)
            raise
        finally:
            for f in files.values():
                f.remove()
            for kept in first.values():
                kept.remove()

    def _get_until_counted(
        self,
        kept: _KeptFirst,
        schema: TableSchema,
        sink: Callable[[Call, Page], tuple[Iterable[Call], int]],
        stats: RunStats,
    ) -> None:
        """The gets of a slot whose kept rows a LIMIT picks (``plan.hydrate_first``), until
        the replies that still pass the conditions the rows were kept by (a job may have
        ended between its list and its get) hold the rows the LIMIT needs:

        - a LIMIT over each row's array items (``hydrate_expand``: the trials view) gets the
          rows as one limited group, counting each reply's items, with no more in flight than
          the items still needed take at the items per get so far (``Scheduler``): LIMIT 3
          over a location's trials made a get of each of its 37 jobs, now 3;
        - an ORDER BY ... LIMIT n gets the first n rows, then as many of the next as failed
          the conditions (each round waits for the one before it: the rows are in order)."""
        slot = kept.slot
        gets = kept.gets(stats)
        needed = slot.hydrate_expand[0] if slot.hydrate_expand else slot.hydrate_limit or 0
        if not needed:
            return  # LIMIT 0: no row is needed
        where = None
        if slot.hydrate_where:
            test = exp.and_(*(unqualified(p.copy()) for p in slot.hydrate_where))
            where = to_duckdb_sql(test)

        def passes(call: Call, page: Page) -> bool:
            if where is None:
                return True
            raw = page.raw if page.raw is not None else reply_json(page.obj or {})
            # DuckDB could not say: not counted (a get more, never a row fewer)
            return bool(
                self.store.count_where(schema, _row_params(call, slot), raw, "o", None, where)
            )

        if slot.hydrate_expand is not None:
            column = slot.hydrate_expand[1]

            def items(call: Call, page: Page) -> tuple[Iterable[Call], int]:
                follow, _ = sink(call, page)
                [obj] = _items(call, page)
                found = obj.get(column) if isinstance(obj, dict) else None
                n = len(found) if isinstance(found, list) and passes(call, page) else 0
                return follow, n  # a value that is not an array: no item counted

            started = self._scheduler().start(
                gets, follow_ups=False, limits={slot.name: needed}, group_of=lambda c: slot.name
            )
            stats.add(started.drain(items))
            return
        passed: list[bool] = []

        def one(call: Call, page: Page) -> tuple[Iterable[Call], int]:
            passed.append(passes(call, page))
            return sink(call, page)

        while gets and (short := needed - sum(passed)) > 0:
            wave, gets = gets[:short], gets[short:]
            stats.add(self._scheduler().start(wave, follow_ups=False).drain(one))

    def _merge(self, stats: RunStats) -> None:
        # a get of a resource that does not exist is an empty answer, not an error (as in
        # StackQL and SQL: WHERE id = 'x' matches nothing), and so is a list of its children;
        # a list of a project's or a region's jobs that 404s stays an error
        registry = self.session.registry
        gone: list[FailedCall] = []
        failed: list[FailedCall] = []
        for f in stats.failures:
            (gone if _empty_if_gone(registry, self.plan, f) else failed).append(f)
        stats.failures = failed
        stats.warnings += _looked_in_defaults(self.plan, gone, self.session.defaults_origin)
        self.stats.add(stats)


def _from_defaults(error: PlanError, call: Call, slot: Slot, session: Session) -> PlanError:
    """``error`` (a call's bad param value) saying where the value was set when it is a
    default, which the statement does not show (``region = 'eu west 1'``, from the config
    file's [defaults]: the message named neither)."""
    for name in sorted(slot.defaulted):
        value = call.params.get(name)
        if value is None or repr(str(value)[:60]) not in error.message:
            continue
        origin = session.defaults_origin.get(name.lower(), "set in the Session's defaults")
        return PlanError(
            f"{error.message} (a default {name}, {origin})",
            location=error.location,
            hint=f"{error.hint}; fix the default, or give {name} in the statement"
            if error.hint
            else f"fix the default, or give {name} in the statement",
        )
    return error


def _looked_in_defaults(
    plan: QueryPlan, gone: list[FailedCall], origin: dict[str, str]
) -> list[str]:
    """A warning per table whose calls found nothing where the config defaults sent them
    (the statement named no region, project or location): ``TuningJobName = 'x'`` over a job
    of eu-west-1 with the default region us-east-1 was 0 rows and no word of where it
    looked. Each names the defaults used and how many calls found nothing."""
    out: list[str] = []
    for slot in plan.slots:
        missed = [f for f in gone if f.resource == slot.resource.id]
        where = sorted(n for n in slot.defaulted if any(n in f.params for f in missed))
        if not missed or not where:
            continue
        values = {n: sorted({str(f.params[n]) for f in missed if n in f.params}) for n in where}
        said = "; ".join(
            f"{n} {', '.join(map(repr, v))}, {origin.get(n.lower(), 'set in the Session defaults')}"
            for n, v in values.items()
        )
        # a param that picks where the call goes and was not given at all (AwsAccountId: the
        # credentials' own account): the job may be in another one (the warning named only
        # the region, which was right)
        unset = [
            p.name
            for p in slot.method.params
            if p.location == "client"
            and p.name not in where
            and all(f.params.get(p.name) is None for f in missed)
        ]
        if unset:
            said += f"; {' / '.join(unset)} not given: the credentials' default"
        calls = "call" if len(missed) == 1 else "calls"
        out.append(
            f"{slot.resource.id}: {len(missed)} {calls} found nothing where the defaults sent "
            f"{'it' if len(missed) == 1 else 'them'} ({said}); name {' / '.join(where + unset)} "
            "in the statement to look elsewhere"
        )
    return out


def _empty_if_gone(registry: Registry, plan: QueryPlan, failure: FailedCall) -> bool:
    """A call that the API answered with "no such resource" whose answer is then empty: a
    get, or a list of one resource's children (the training jobs of a tuning job: a job
    that a join paired with the other region's, or that ended meanwhile, is not there).
    They failed the statement ("6 of 14 calls failed") where a describe gave no row."""
    if not failure.not_found:
        return False
    for slot in plan.slots:
        if slot.resource.id == failure.resource:
            method = slot.resource.method(failure.method)
            return not method.is_list or bool(set(method.required_params) & registry.naming_params)
    return False


class _KeptFirst:
    """A hydrating slot's listed rows, filtered before they are got (``plan.hydrate_first``):
    the list pages go to a table of their own, and each row's get waits under the row's key
    (the fields its get is made from, ``identity_fields``, and the get's client params)
    until the statement's conditions, ORDER BY and LIMIT over that table say which rows are
    kept."""

    def __init__(self, store: Store, slot: Slot) -> None:
        assert slot.hydrate is not None
        self.store, self.slot = store, slot
        resource, hydrate = slot.resource, slot.hydrate
        self.fields = list(identity_fields(resource, hydrate) or ())
        self.client = [p.name for p in hydrate.params if p.required and p.location == "client"]
        read = None
        if slot.columns is not None:
            read = slot.columns | {c.lower() for c in self.fields + self.client}
        self.schema = TableSchema(resource, read=read)
        self.table = f"{slot.name}__listed"
        store.create_table(self.table, self.schema)
        self.loader = TableLoader(store, self.table, self.schema, slot.method.items_key)
        self.waiting: dict[tuple[Any, ...], list[Call]] = {}

    def hold(self, get: Call, item: dict[str, Any], listed_by: Call) -> None:
        key = tuple(item.get(f) for f in self.fields)
        key += tuple(listed_by.params.get(c) for c in self.client)
        self.waiting.setdefault(key, []).append(get)

    @property
    def counts(self) -> bool:
        """Whether a LIMIT picks the rows, so that the gets stop once it has them
        (``QueryRun._get_until_counted``); else every kept row is got."""
        return self.slot.hydrate_limit is not None or self.slot.hydrate_expand is not None

    def gets(self, stats: RunStats) -> list[Call]:
        """The gets of the rows kept, in the ORDER BY's order when there is one; the pages
        that could not be read go to ``stats``."""
        self.loader.finish()
        stats.failures.extend(self.loader.failures)
        slot = self.slot
        sql = f"SELECT {', '.join(q(c) for c in self.fields + self.client)} "
        sql += f"FROM {qualified(self.table)} AS {q(slot.aliases[0])}"
        if slot.hydrate_where:
            sql += " WHERE " + " AND ".join(f"({to_duckdb_sql(p)})" for p in slot.hydrate_where)
        if slot.hydrate_order:
            sql += " ORDER BY " + ", ".join(to_duckdb_sql(k) for k in slot.hydrate_order)
        try:
            rows = self.store.execute(sql)
        except Exception as e:
            raise duckdb_error(e, sql) from None
        out: list[Call] = []
        for row in rows:
            out += self.waiting.pop(tuple(row), [])
        return out

    def remove(self) -> None:
        self.loader.remove()
        self.store.execute(f"DROP TABLE IF EXISTS {qualified(self.table)}")


def _row_params(call: Call, slot: Slot) -> dict[str, Any]:
    """The param columns of ``call``'s rows: its params and those of the list it came from,
    but the pushed filters, which are not the user's bindings (they do not show as columns)."""
    params = {**(call.row_params or {}), **call.params}
    return {k: v for k, v in params.items() if k not in slot.pushed}


def _answered_before(answered: dict[tuple[Any, ...], str | None], call: Call, page: Page) -> bool:
    """Whether a get's reply is about a resource that another get of its table answered with
    (its row is there already). ``answered`` maps each resource to the note that its name
    was asked for only in another case, or None once a get asked for it as it is named."""
    [obj] = _items(call, page)
    note = case_only_difference(call, obj)
    ident = reply_identity(call, obj) or (id(call),)
    again = ident in answered
    if not again:
        answered[ident] = note
    elif note is None:
        answered[ident] = None
    return again


def _items(call: Call, page: Page) -> list[dict[str, Any]]:
    if page.obj is not None:
        obj = page.obj
    else:
        try:
            obj = orjson.loads(page.raw or b"{}")
        except orjson.JSONDecodeError:
            raise ProviderError(f"{call.label} replied with invalid JSON") from None
    if not call.method.is_list:
        return [obj]
    items = obj.get(call.method.items_key or "", [])
    if not isinstance(items, list):
        raise ProviderError(f"{call.label} replied with a non-list {call.method.items_key}")
    return items


def failures_error(stats: RunStats, *, can_continue: bool = True) -> ProviderError:
    """The error of a read whose calls failed; ``can_continue``: ``--on-error continue`` would
    have kept the rows that arrived (a SELECT's; not an EXEC's)."""
    n = len(stats.failures)
    first = stats.failures[0]
    if n == 1:
        msg = f"{first.describe()}"
    else:
        msg = f"{n} of {stats.calls} calls failed"
    return ProviderError(
        msg,
        failures=stats.failures,
        hint="fix the failing calls"
        + (", or use --on-error continue to keep the rows that arrived" if can_continue else ""),
    )


def now() -> float:
    return time.monotonic()


__all__ = ["PlanError", "QueryRun", "failures_error", "slot_calls"]

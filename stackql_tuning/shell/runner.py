"""Running what the user typed: meta commands and SQL, with progress, Ctrl-C and rendering.

:class:`Shell` is the part of the shell that does not depend on prompt_toolkit: the REPL and the
non-interactive mode both hand it text. A SQL chunk runs in a worker thread
(``session.execute_script``); the calling thread waits, draws a progress line on stderr after
0.5 s. On Ctrl-C it cancels the session and waits for the statement to stop, and shows its
report (a mutation's rows: done, not sent, unknown); a second Ctrl-C abandons it and discards
whatever the worker still produces, so nothing is half-printed. Each result is rendered
whole, shown (paged when needed), then followed by ``N rows in X.XX s`` on stderr; the next
statement starts only once it is shown. A closed stdout (``| head``) stops everything: an
:class:`~stackql_tuning.errors.OutputClosed` that lists what was not run goes to the command.

Errors are raised to the caller (:meth:`Shell.handle` prints them); this module never exits
the process.
"""

from __future__ import annotations

import io
import queue
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from stackql_tuning.errors import OutputClosed, PartialResult, StackqlTuningError, UsageError
from stackql_tuning.render.output import (
    failure_report,
    is_terminal,
    output_closed,
    table_width,
    writing,
)
from stackql_tuning.shell import pager
from stackql_tuning.shell.meta import parse_meta, run_meta
from stackql_tuning.shell.script import Unit, split_units, statement_lines

#: a statement shows a progress line after running this long (seconds)
PROGRESS_AFTER = 0.5
#: how long a second Ctrl-C waits for the abandoned statement's report (seconds)
ABANDON_WAIT = 1.0
#: how deep ``\i`` may nest
MAX_INCLUDE_DEPTH = 16
#: the most cells a table line may take when it goes through the pager
PAGED_WIDTH = 2000
_RED, _DIM, _RESET = "\x1b[31m", "\x1b[2m", "\x1b[0m"
_CLEAR = "\r\x1b[K"


class Cancelled(Exception):
    """The user pressed Ctrl-C while a statement ran (the statement was abandoned)."""


@dataclass
class ShellState:
    """What the meta commands switch."""

    output: str = "table"
    hide_headers: bool = False
    timing: bool = True
    pager: bool = True
    quit: bool = False


class Shell:
    """Runs meta commands and SQL against one session, writing to ``out`` and ``err``."""

    def __init__(
        self,
        session: Any,
        *,
        out: IO[str],
        err: IO[str],
        state: ShellState | None = None,
        progress: bool | None = None,
        color: bool | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.out = out
        self.err = err
        self.state = state or ShellState()
        #: the template variables of ``\\i`` files and a script on stdin (--var, --vars-file)
        self.variables: Mapping[str, Any] = variables or {}
        self.progress = is_terminal(err) if progress is None else progress
        self.color = is_terminal(err) if color is None else color
        self._latest: Any = None
        self._stopping = False  # Ctrl-C pressed once while the statement runs
        self._depth = 0
        self._worker: threading.Thread | None = None
        #: a result of the text being handled had failed calls (--on-error continue)
        self._partial = False

    # -- reporting ------------------------------------------------------------------------------
    def info(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()

    def error(self, text: str) -> None:
        if self.color:
            text = f"{_RED}{text}{_RESET}"
        self.info(text)

    # -- entry points ---------------------------------------------------------------------------
    def handle(self, text: str, *, source: str | None = None) -> int:
        """Run ``text`` (meta commands and/or SQL); print any error; return an exit code.

        0: ok; the error's exit code (1 query/provider error, 2 usage error); 3: everything ran
        but some calls failed (a partial result, as exec); 130: cancelled.
        """
        self._partial = False
        try:
            self.run_script(text, source=source)
        except Cancelled:
            self.error("cancelled")
            return 130
        except KeyboardInterrupt:
            self.error("cancelled")
            return 130
        except OutputClosed:  # `| head`: nothing further runs; the command says what did not
            raise
        except StackqlTuningError as e:
            self.error(str(e))
            return e.exit_code
        except BrokenPipeError:  # (run_sql says it as OutputClosed)
            raise output_closed([]) from None
        except Exception as e:  # never let a bug kill the shell
            self.error(f"internal error: {type(e).__name__}: {e} (please report this)")
            return 1
        return PartialResult.exit_code if self._partial else 0

    def run_script(self, text: str, *, source: str | None = None) -> None:
        """Run every unit of ``text`` in order; raise at the first error."""
        if self._depth >= MAX_INCLUDE_DEPTH:
            raise UsageError(
                f"\\i nested more than {MAX_INCLUDE_DEPTH} deep", hint="check for a loop"
            )
        self._depth += 1
        units = split_units(text)
        try:
            for n, unit in enumerate(units):
                if self.state.quit:
                    return
                try:
                    self._run_unit(unit, text, source)
                except OutputClosed as e:  # and the units after it are not run either
                    lines, commands = list(e.lines), list(e.commands)
                    if unit.kind == "meta":  # \\i: its file's lines are that of the \\i here
                        lines, commands = [unit.line] * len(lines), [unit.line] * len(commands)
                    for later in units[n + 1 :]:
                        if later.kind == "meta":
                            commands.append(later.line)
                        else:
                            lines += statement_lines(later.positioned())
                    raise output_closed(lines, commands=commands) from None
        finally:
            self._depth -= 1

    def _run_unit(self, unit: Unit, text: str, source: str | None) -> None:
        """Run one unit of ``text``: a meta command, or a chunk of SQL."""
        if unit.kind != "meta":
            self.run_sql(unit.positioned(), source=source)
            return
        parsed = parse_meta(unit.text)
        assert parsed is not None
        try:
            run_meta(self, *parsed)
        except OutputClosed:  # (in a file run by \\i) its own lines
            raise
        except StackqlTuningError as e:
            # its line, where there are several (a script, `shell < file`)
            if e.location.line is None and (source or "\n" in text.strip()):
                e.location.file, e.location.line = source, unit.line
            raise

    # -- SQL ------------------------------------------------------------------------------------
    def run_sql(self, text: str, *, source: str | None = None) -> None:
        """Run the statements of ``text`` in a worker thread, showing each result as it comes."""
        # a SimpleQueue: Queue.get's Python-level condition, interrupted by Ctrl-C at the wrong
        # moment, raised "release unlocked lock" (an internal error instead of the report)
        results: queue.SimpleQueue[tuple[str, Any, float]] = queue.SimpleQueue()
        abandoned = threading.Event()
        session = self.session

        stopping = threading.Event()  # Ctrl-C once: the running statement is the last
        # a result was shown: the next statement may run (it ran while the result before it was
        # written, and a closed output (`| head`) then stopped it half-way, a DELETE included)
        shown = threading.Semaphore(0)

        def work() -> None:
            try:
                for result in session.iter_script(text, source=source):
                    if abandoned.is_set():
                        return
                    results.put(("result", result, time.monotonic()))
                    while not shown.acquire(timeout=0.05):
                        if abandoned.is_set() or stopping.is_set():
                            break
                    if abandoned.is_set():
                        return
                    if stopping.is_set():
                        results.put(("error", Cancelled(), time.monotonic()))
                        return
            except BaseException as e:  # handed to the waiting thread
                if not abandoned.is_set():
                    results.put(("error", e, time.monotonic()))
                return
            results.put(("done", None, time.monotonic()))

        self._wait_for_abandoned()
        self._latest = None
        self._stopping = False
        session.progress = self._on_progress
        worker = threading.Thread(target=work, name="stackql-tuning-statement", daemon=True)
        self._worker = worker
        started = time.monotonic()
        drawn = False
        received = 0  # the results shown
        try:
            worker.start()
            while True:
                try:  # a Ctrl-C while the progress line is drawn is a Ctrl-C here too
                    try:
                        kind, payload, at = results.get(timeout=0.1)
                    except queue.Empty:
                        drawn = self._draw_progress(started) or drawn
                        continue
                except KeyboardInterrupt:
                    if stopping.is_set():
                        raise  # a second Ctrl-C: the statement is abandoned
                    # the first: the statement stops (a SELECT at once; a mutation sends no
                    # further call and reports each row once its calls in flight are
                    # answered), and its report is shown
                    stopping.set()
                    self._stopping = True
                    self.session.cancel()
                    if drawn:
                        self._clear_progress()
                        drawn = False
                    worker.join(0.3)
                    if worker.is_alive():
                        self.info(
                            "cancelling: waiting for the calls in flight (Ctrl-C again to abandon)"
                        )
                    continue
                if drawn:
                    self._clear_progress()
                    drawn = False
                if kind == "done":
                    if stopping.is_set():
                        raise Cancelled()
                    return
                if kind == "error":
                    partial = getattr(payload, "partial", None)
                    if partial is not None:  # what it did before it failed (RETURNING rows)
                        self._show(partial, at - started)
                    raise payload
                if stopping.is_set():
                    # a result that came after Ctrl-C is not shown; what a change reports of
                    # itself is (it was done)
                    for message in getattr(payload, "messages", None) or []:
                        self.info(message)
                    shown.release()
                    continue
                try:
                    self._show(payload, at - started)
                except BrokenPipeError:  # `| head`: the statements after it are not run
                    raise output_closed(statement_lines(text)[received + 1 :]) from None
                received += 1
                shown.release()
                started = time.monotonic()
                self._latest = None
        except KeyboardInterrupt:
            if drawn:
                self._clear_progress()
            if stopping.is_set():
                # the second Ctrl-C: a change gives up its calls in flight and reports every
                # row (the report was dropped, rows done before the first Ctrl-C with it)
                report = self._report_of_abandoned(results)
                if report is not None:
                    self._abandon(abandoned)
                    raise report from None
            self._abandon(abandoned)
            raise Cancelled() from None
        except BaseException:
            # showing a result failed (a closed pipe, a full disk): the rest is not wanted
            if worker.is_alive():
                self._abandon(abandoned)
            raise
        finally:
            session.progress = None

    def _report_of_abandoned(self, results: queue.SimpleQueue[tuple[str, Any, float]]) -> Any:
        """Tell the session to give up its calls in flight, and wait briefly for the error
        that reports what the statement did; None when none comes."""
        cancel = getattr(self.session, "cancel", None)
        if not callable(cancel):
            return None
        try:
            cancel(abandon=True)
        except TypeError:  # a session without abandon
            return None
        deadline = time.monotonic() + ABANDON_WAIT
        try:
            while (left := deadline - time.monotonic()) > 0:
                try:
                    kind, payload, _ = results.get(timeout=left)
                except queue.Empty:
                    return None
                if kind == "error" and isinstance(payload, StackqlTuningError):
                    return payload
        except KeyboardInterrupt:
            return None
        return None

    def _abandon(self, abandoned: threading.Event) -> None:
        """Discard whatever the running statement still produces and cancel its calls."""
        abandoned.set()
        cancel = getattr(self.session, "cancel", None)
        if callable(cancel):
            cancel()

    def _wait_for_abandoned(self) -> None:
        """Let a cancelled statement's in-flight calls finish before the session runs another.

        (Starting a statement clears the session's cancel flag, which would revive it.)
        """
        worker = self._worker
        if worker is None or not worker.is_alive():
            return
        self.info("waiting for the cancelled statement's calls to finish (Ctrl-C to give up)")
        try:
            while worker.is_alive():
                worker.join(0.1)
        except KeyboardInterrupt:
            raise Cancelled() from None

    def _on_progress(self, progress: Any) -> None:
        self._latest = progress  # called from worker threads; a plain assignment is atomic

    def _draw_progress(self, started: float) -> bool:
        elapsed = time.monotonic() - started
        if not self.progress or elapsed < PROGRESS_AFTER:
            return False
        p = self._latest
        if p is None:
            line = f"running... {elapsed:.1f} s"
        else:
            pages = f" ({p.pages} pages)" if p.pages > p.calls_done else ""
            line = f"{p.calls_done}/{p.calls_total} calls{pages}, {p.rows} rows, {elapsed:.1f} s"
        line += "  (Ctrl-C again abandons)" if self._stopping else "  (Ctrl-C cancels)"
        # one terminal line at most: a wrapped line is not erased by the next redraw, and a
        # narrow terminal filled with copies of it
        columns = shutil.get_terminal_size((80, 24)).columns
        if len(line) >= columns:
            line = line[: max(columns - 1, 0)]
        if self.color:
            line = f"{_DIM}{line}{_RESET}"
        self.err.write(_CLEAR + line)
        self.err.flush()
        return True

    def _clear_progress(self) -> None:
        self.err.write(_CLEAR)
        self.err.flush()

    # -- results --------------------------------------------------------------------------------
    def _show(self, result: Any, measured: float) -> None:
        elapsed = getattr(result, "elapsed", 0.0) or measured
        if getattr(result, "has_rows", True):
            paging = self.state.pager and is_terminal(self.out)
            # when paging, tables keep their natural width and the pager scrolls sideways; not
            # on a terminal, they keep it too (as in exec: nothing is cut where no one sees it)
            width = PAGED_WIDTH if paging else table_width(self.out)
            text = render_text(
                result, self.state.output, width=width, hide_headers=self.state.hide_headers
            )
            with writing():  # a full disk is an output error; a closed pipe ends the script
                pager.show(text, self.out, paging=paging, warn=self.info)
        report = failure_report(result)
        if report:
            self._partial = True
            self.error("\n".join(report))
        for warning in getattr(result, "warnings", []):
            self.info(f"warning: {warning}")
        for message in getattr(result, "messages", []):
            self.info(message)
        self.info(footer(result, elapsed, timing=self.state.timing))


def footer(result: Any, elapsed: float, *, timing: bool = True) -> str:
    """``N rows in X.XX s`` (or ``done in X.XX s`` for a statement without rows), and how
    old the replies the response cache gave are (a job's state read from it may be stale)."""
    if getattr(result, "has_rows", True):
        n = len(result.rows)
        text = f"{n} row" + ("" if n == 1 else "s")
        text = f"{text} in {elapsed:.2f} s" if timing else text
    else:
        text = f"done in {elapsed:.2f} s" if timing else "done"
    cached = getattr(result, "cached_pages", 0)
    if cached:
        pages = "every page" if cached == result.calls else f"{cached} of {result.calls} pages"
        age = max(1, round(result.cache_age))
        old = "up to {} old".format(f"{age} s" if age < 120 else f"{age // 60} min")
        text += f" ({pages} from the response cache, {old}: \\c off reads live)"
    return text


def render_text(
    result: Any, fmt: str, *, width: int | None = None, hide_headers: bool = False
) -> str:
    """The whole rendering of ``result`` as text (the render package, or a plain fallback)."""
    buf = io.StringIO()
    try:
        from stackql_tuning.render import render  # type: ignore[attr-defined]
    except ImportError:
        _plain(result, buf)
    else:
        render(result, fmt, buf, width=width, hide_headers=hide_headers)
    return buf.getvalue()


def _plain(result: Any, out: IO[str]) -> None:
    """Tab-separated rows with a header: used only until the render package exists."""
    out.write("\t".join(str(c) for c in result.columns) + "\n")
    for row in result.rows:
        out.write("\t".join("" if v is None else str(v) for v in row) + "\n")

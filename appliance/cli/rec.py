"""``appliancectl rec``: find, play, export, delete and verify call recordings; QA (REC-1..3)."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

import click
import sqlite_utils

from appliance.cli.common import (
    EXIT_REFUSED,
    CliError,
    Context,
    daemon_call,
    output_options,
    pass_context,
    print_json,
    print_table,
)
from appliance.config.sections.recording import RecordingSection
from appliance.qa import QaError, qa_report, sample_recordings, score_recording
from appliance.recording import (
    RecordingError,
    RecordingIndex,
    SearchFilter,
    apply_retention,
    delete,
    export,
    verify,
)
from appliance.recording.maintenance import playable_pcm, write_pcm_wav
from appliance.stats import StatsError, parse_time
from appliance.store.audit import record
from appliance.store.db import connect

F = TypeVar("F", bound=Callable[..., Any])

SEARCH_COLUMNS = ["id", "call_id", "segment", "start", "duration", "agent", "extension", "queue",
                  "caller", "dnis", "status", "path"]


def store_options(func: F) -> F:
    func = click.option("--recordings", "recordings_dir", metavar="DIR",
                        help="Recordings folder [default: paths.recordings_dir].")(func)
    func = click.option("--db", "db_path", metavar="FILE",
                        help="Database [default: from the configuration].")(func)
    return func


def filter_options(func: F) -> F:
    options: list[Callable[[F], F]] = [
        click.option("--agent", help="Agent id or display name (e.g. 1001 or Ada)."),
        click.option("--extension", help="Extension of the agent's phone (e.g. 201)."),
        click.option("--queue", help="Queue name."),
        click.option("--caller", help="Caller number; a trailing * matches a prefix."),
        click.option("--call-id", "call_id", help="Call identifier (CDR call_id)."),
        click.option("--from", "start", metavar="TIME",
                     help="Started at or after (UTC unless an offset is given)."),
        click.option("--to", "end", metavar="TIME", help="Started before."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


class Store:
    """The index and folder a command works on."""

    def __init__(self, ctx: Context, db_path: str | None, recordings_dir: str | None) -> None:
        if db_path is None or recordings_dir is None:
            paths = ctx.config().paths
            db_path = db_path or paths.database_path
            recordings_dir = recordings_dir or paths.recordings_path
        if not os.path.exists(db_path):
            raise CliError(f"database {db_path} does not exist; give --db or check paths.database")
        self.ctx = ctx
        self.db_path = db_path
        self.root = recordings_dir
        try:
            self.conn = connect(db_path)
            has_index = self.conn.execute(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'recordings'"
            ).fetchone()
        except sqlite3.Error as exc:
            raise CliError(f"cannot open database {db_path}: {exc}") from exc
        if not has_index:
            raise CliError(f"{db_path} has no recordings index yet; run 'appliancectl db migrate'",
                           EXIT_REFUSED)
        self.index = RecordingIndex(self.conn)

    def agent_id(self, agent: str | None) -> str | None:
        """``--agent`` as the id the index files: an agent id, or the display name of one
        agent of ``[acd.agents]`` (REC-2 "find by agent")."""
        if agent is None:
            return None
        try:
            agents = self.ctx.config().acd.agents
        except (CliError, OSError):  # --db without a configuration: ids only
            return agent
        if any(a.id == agent for a in agents):
            return agent
        named = [a.id for a in agents if a.name and a.name.casefold() == agent.casefold()]
        if len(named) > 1:
            raise CliError(f"--agent {agent!r}: agents {', '.join(named)} share that name; "
                           "give the agent id", EXIT_REFUSED)
        return named[0] if named else agent

    def audit(self, action: str, target: str, outcome: str = "ok", **detail: Any) -> None:
        record(sqlite_utils.Database(self.conn), action, target=target, outcome=outcome,
               detail=detail)


def _criteria(agent: str | None, extension: str | None, queue: str | None, caller: str | None,
              call_id: str | None, start: str | None, end: str | None,
              limit: int | None = None) -> SearchFilter:
    try:
        return SearchFilter(agent=agent, extension=extension, queue=queue, caller=caller,
                            call_id=call_id, start=parse_time(start) if start else None,
                            end=parse_time(end) if end else None, limit=limit)
    except StatsError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from exc


def _settings(ctx: Context) -> RecordingSection:
    try:
        section = getattr(ctx.config(), "recording", None)
    except (CliError, OSError):
        return RecordingSection()
    return section if isinstance(section, RecordingSection) else RecordingSection()


@click.group("rec")
def rec() -> None:
    """Call recordings: search, play, export, delete, verify, retention and QA.

    Example: appliancectl rec search --agent a1 --from 2026-11-23 --to 2026-11-24
    """


@rec.command("search")
@filter_options
@click.option("--limit", type=click.IntRange(1), help="At most this many recordings.")
@store_options
@output_options
@pass_context
def search_command(ctx: Context, agent: str | None, extension: str | None, queue: str | None,
                   caller: str | None, call_id: str | None, start: str | None, end: str | None,
                   limit: int | None, db_path: str | None, recordings_dir: str | None,
                   as_json: bool) -> None:
    """Find recordings by agent, extension, queue, caller, call id and time (REC-2).

    Example: appliancectl rec search --caller '0612*' --from 2026-11-01 --json
    """
    store = Store(ctx, db_path, recordings_dir)
    try:
        found = store.index.search(_criteria(store.agent_id(agent), extension, queue, caller,
                                             call_id, start, end, limit))
    except RecordingError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from exc
    rows = [r.as_dict() for r in found]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["start"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["start"]))
        row["duration"] = f"{row['duration']:.1f}"
    print_table(rows, SEARCH_COLUMNS)


@rec.command("play")
@click.argument("recording_id", type=int)
@click.option("--output", "-o", metavar="FILE", help="Write a PCM WAV file ('-' for stdout).")
@click.option("--channel", help="Play into this live channel (a supervisor's phone) instead.")
@store_options
@output_options
@pass_context
def play_command(ctx: Context, recording_id: int, output: str | None, channel: str | None,
                 db_path: str | None, recordings_dir: str | None, as_json: bool) -> None:
    """Play a recording: to a 16-bit PCM WAV file or stdout, or into a live channel.

    Example: appliancectl rec play 42 -o /tmp/call42.wav
    """
    store = Store(ctx, db_path, recordings_dir)
    if channel:
        result = daemon_call(ctx.config().control_socket("telephonyd"), "rec.play",
                             recording_id=recording_id, channel=channel)
        store.audit("rec.play", str(recording_id), channel=channel)
        if as_json:
            print_json(result)
        else:
            click.echo(f"playing recording {recording_id} to {channel}")
        return
    try:
        rec_row = store.index.get(recording_id)
        _, audio = playable_pcm(store.root, rec_row)
    except RecordingError as exc:
        raise CliError(str(exc)) from exc
    store.audit("rec.play", str(recording_id), output=output or "-")
    if output is None or output == "-":
        if sys.stdout.isatty():
            raise CliError("refusing to write audio to a terminal; use -o FILE or a pipe")
        stream: BinaryIO = sys.stdout.buffer
        write_pcm_wav(stream, audio)
        return
    try:
        with open(output, "wb") as handle:
            write_pcm_wav(handle, audio)
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror}") from exc
    info = {"recording_id": recording_id, "output": output, "seconds": audio.shape[1] / 8000}
    if as_json:
        print_json(info)
    else:
        click.echo(f"recording {recording_id}: {info['seconds']:.1f} s written to {output}")


@rec.command("export")
@click.argument("archive", type=click.Path(dir_okay=False))
@click.argument("recording_ids", type=int, nargs=-1)
@filter_options
@store_options
@output_options
@pass_context
def export_command(ctx: Context, archive: str, recording_ids: tuple[int, ...], agent: str | None,
                   extension: str | None, queue: str | None, caller: str | None,
                   call_id: str | None, start: str | None, end: str | None, db_path: str | None,
                   recordings_dir: str | None, as_json: bool) -> None:
    """Write recordings (by id or search) to a .tar.gz with manifest.json and SHA256SUMS.

    Example: appliancectl rec export /mnt/usb/nov.tar.gz --queue sales --from 2026-11-01
    """
    store = Store(ctx, db_path, recordings_dir)
    try:
        if recording_ids:
            chosen = [store.index.get(i) for i in recording_ids]
        else:
            chosen = store.index.search(_criteria(store.agent_id(agent), extension, queue,
                                                  caller, call_id, start, end))
        manifest = export(store.root, chosen, archive)
    except RecordingError as exc:
        raise CliError(str(exc)) from exc
    store.audit("rec.export", archive, count=manifest["count"])
    if as_json:
        print_json({"archive": archive, "count": manifest["count"]})
    else:
        click.echo(f"{manifest['count']} recordings written to {archive}")


@rec.command("delete")
@click.argument("recording_ids", type=int, nargs=-1)
@filter_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@store_options
@output_options
@pass_context
def delete_command(ctx: Context, recording_ids: tuple[int, ...], agent: str | None,
                   extension: str | None, queue: str | None, caller: str | None,
                   call_id: str | None, start: str | None, end: str | None, yes: bool,
                   db_path: str | None, recordings_dir: str | None, as_json: bool) -> None:
    """Delete recordings by id or by search: file and index row together (SEC-3). Audited.

    A customer's erasure request: appliancectl rec delete --caller 0612345678 --yes

    Example: appliancectl rec delete 42 43 --yes
    """
    store = Store(ctx, db_path, recordings_dir)
    criteria = (store.agent_id(agent), extension, queue, caller, call_id, start, end)
    if recording_ids and any(c is not None for c in criteria):
        raise CliError("give recording ids or search options, not both", EXIT_REFUSED)
    if not recording_ids:
        if all(c is None for c in criteria):
            raise CliError("give recording ids or at least one search option", EXIT_REFUSED)
        try:
            recording_ids = tuple(r.id for r in store.index.search(_criteria(*criteria)))
        except RecordingError as exc:
            raise CliError(str(exc), EXIT_REFUSED) from exc
    if not yes:
        click.confirm(f"Delete {len(recording_ids)} recording(s) for good?", abort=True)
    deleted: list[int] = []
    errors: list[str] = []
    for rec_id in recording_ids:
        try:
            delete(store.index, store.root, rec_id)
            deleted.append(rec_id)
            store.audit("rec.delete", str(rec_id))
        except RecordingError as exc:
            errors.append(str(exc))
    if as_json:
        print_json({"deleted": deleted, "errors": errors})
    else:
        for rec_id in deleted:
            click.echo(f"deleted recording {rec_id}")
        if not recording_ids:
            click.echo("no recording matches")
    if errors:
        raise CliError("; ".join(errors))


@rec.command("verify")
@click.option("--fix", is_flag=True, help="Remove index rows whose file is missing.")
@store_options
@output_options
@pass_context
def verify_command(ctx: Context, fix: bool, db_path: str | None, recordings_dir: str | None,
                   as_json: bool) -> None:
    """Compare index and folder: missing, orphaned, altered and unreadable files (exit 4).

    Example: appliancectl rec verify --json
    """
    store = Store(ctx, db_path, recordings_dir)
    try:
        report = verify(store.index, store.root, fix_missing=fix)
    except RecordingError as exc:
        raise CliError(str(exc)) from exc
    if fix and report.fixed:
        store.audit("rec.verify.fix", store.root, removed=report.fixed)
    if as_json:
        print_json(report.as_dict())
    else:
        click.echo(f"{report.checked} recordings checked: {'ok' if report.ok else 'PROBLEMS'}")
        for r in report.missing:
            click.echo(f"missing file: recording {r.id} {r.path}")
        for path in report.orphaned:
            click.echo(f"orphaned file (not in the index): {path}")
        for r in report.altered:
            click.echo(f"altered (checksum differs): recording {r.id} {r.path}")
        for r, error in report.unreadable:
            click.echo(f"unreadable: recording {r.id}: {error}")
    if not report.ok:
        raise SystemExit(EXIT_REFUSED)


@rec.command("retention")
@store_options
@output_options
@pass_context
def retention_command(ctx: Context, db_path: str | None, recordings_dir: str | None,
                      as_json: bool) -> None:
    """Apply the configured retention now: age and size limits per queue, then the quota.

    Example: appliancectl rec retention --json
    """
    store = Store(ctx, db_path, recordings_dir)
    deleted = apply_retention(store.index, store.root, _settings(ctx), now=time.time())
    if deleted:
        store.audit("rec.retention", store.root, deleted=[r.id for r in deleted])
    if as_json:
        print_json({"deleted": [r.id for r in deleted], "bytes": sum(r.size for r in deleted)})
    else:
        click.echo(f"retention deleted {len(deleted)} recordings "
                   f"({sum(r.size for r in deleted) / 1e6:.1f} MB)")


def _live(action: str) -> click.Command:
    @click.command(action, help=f"{action.capitalize()} recording of a call in progress "
                   f"(on demand).\n\nExample: appliancectl rec {action} --call-id c-1234")
    @click.option("--call-id", "call_id", required=True, help="The call.")
    @output_options
    @pass_context
    def command(ctx: Context, call_id: str, as_json: bool) -> None:
        result = daemon_call(ctx.config().control_socket("telephonyd"), f"rec.{action}",
                             call_id=call_id)
        if as_json:
            print_json(result)
        else:
            click.echo(f"call {call_id}: recording {action} done")

    return command


for _action in ("start", "stop", "pause", "resume"):
    rec.add_command(_live(_action))


@rec.group("qa")
def qa() -> None:
    """Quality assurance: sample recordings per agent, score them, report (REC-3).

    Example: appliancectl rec qa sample --from 2026-11-16 --to 2026-11-23 --percent 5
    """


@qa.command("sample")
@click.option("--from", "start", required=True, metavar="TIME")
@click.option("--to", "end", required=True, metavar="TIME")
@click.option("--percent", type=click.FloatRange(0, 100),
              help="Share per agent and period [default: recording.qa.sample_percent].")
@click.option("--seed", default="qa", show_default=True, help="Seed of the reproducible draw.")
@store_options
@output_options
@pass_context
def qa_sample(ctx: Context, start: str, end: str, percent: float | None, seed: str,
              db_path: str | None, recordings_dir: str | None, as_json: bool) -> None:
    """Draw N% of each agent's recordings per period for scoring.

    Example: appliancectl rec qa sample --from 2026-11-01 --to 2026-12-01 --json
    """
    store = Store(ctx, db_path, recordings_dir)
    try:
        picked = sample_recordings(store.index, _settings(ctx).qa, parse_time(start),
                                   parse_time(end), now=time.time(), seed=seed, percent=percent)
    except (QaError, StatsError) as exc:
        raise CliError(str(exc), EXIT_REFUSED) from exc
    rows = [{"recording_id": s.recording_id, "agent": s.agent, "period": s.period,
             "call_id": s.call_id} for s in picked]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["recording_id", "agent", "period", "call_id"])


@qa.command("score")
@click.argument("recording_id", type=int)
@click.option("--scorecard", required=True)
@click.option("--item", "items", multiple=True, metavar="NAME=POINTS", required=True,
              help="Points for one scorecard item (repeat for each).")
@click.option("--scorer", default=lambda: os.environ.get("USER", "unknown"),
              help="Who scored [default: $USER].")
@click.option("--comment", default="")
@store_options
@output_options
@pass_context
def qa_score(ctx: Context, recording_id: int, scorecard: str, items: tuple[str, ...], scorer: str,
             comment: str, db_path: str | None, recordings_dir: str | None,
             as_json: bool) -> None:
    """Score a recording on a configured scorecard.

    Example: appliancectl rec qa score 42 --scorecard basic --item greeting=4 --item solution=9
    """
    store = Store(ctx, db_path, recordings_dir)
    points: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            points[name] = float(value)
        except ValueError:
            raise CliError(f"--item {item!r}: expected NAME=POINTS", EXIT_REFUSED) from None
        if not sep:
            raise CliError(f"--item {item!r}: expected NAME=POINTS", EXIT_REFUSED)
    try:
        evaluation = score_recording(store.index, _settings(ctx).qa.scorecards, recording_id,
                                     scorecard, points, scorer=scorer, now=time.time(),
                                     comment=comment)
    except (QaError, RecordingError) as exc:
        raise CliError(str(exc), EXIT_REFUSED) from exc
    store.audit("rec.qa.score", str(recording_id), scorecard=scorecard, score=evaluation.score)
    if as_json:
        print_json({"evaluation_id": evaluation.id, "agent": evaluation.agent,
                    "score": evaluation.score})
    else:
        click.echo(f"recording {recording_id} ({evaluation.agent}): {evaluation.score:.1f}%")


@qa.command("report")
@click.option("--from", "start", required=True, metavar="TIME")
@click.option("--to", "end", required=True, metavar="TIME")
@store_options
@output_options
@pass_context
def qa_report_command(ctx: Context, start: str, end: str, db_path: str | None,
                      recordings_dir: str | None, as_json: bool) -> None:
    """QA per agent: samples drawn and scored, evaluations, average/min/max score.

    Example: appliancectl rec qa report --from 2026-11-01 --to 2026-12-01
    """
    store = Store(ctx, db_path, recordings_dir)
    try:
        report = qa_report(store.index, parse_time(start), parse_time(end))
    except StatsError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from exc
    if as_json:
        print_json(report)
        return
    rows = [{"agent": agent, **{k: ("-" if v is None else (f"{v:.1f}" if isinstance(v, float)
                                                            else v)) for k, v in data.items()}}
            for agent, data in report.items()]
    print_table(rows, ["agent", "samples", "samples_scored", "evaluations", "avg_score",
                       "min_score", "max_score"])

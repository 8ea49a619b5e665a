"""The ``gridwatch`` command (DESIGN.md, "CLI"): demo, init, engine, serve, simulate, report,
import, apikey, deadletters."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from backend.core.clock import ManualClock, ScaledClock, SystemClock
from backend.core.config import Settings, load_settings
from backend.core.errors import GridwatchError
from backend.queries.scope import Scope
from backend.store.db import start_wal_checkpointer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="gridwatch: the real-time operations centre for grid governance.",
)
apikey_app = typer.Typer(help="API keys for integrations.")
dead_app = typer.Typer(help="Commands set aside because they could not be applied.")
user_app = typer.Typer(help="People who sign in to the screens.")
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(dead_app, name="deadletters")
sync_app = typer.Typer(help="Pull cases from another city's system, incrementally.")
app.add_typer(sync_app, name="sync")

CITY_KINDS = ("small", "shangrao", "jizhou")  # backend/refdata/generator.py, sim/profiles.py
log = logging.getLogger("gridwatch")


def _setup_logging(verbose: bool = False) -> None:
    from backend.core.runtime import tune_gc

    tune_gc()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _durable_or_fail(system) -> None:  # type: ignore[no-untyped-def]
    """A process that puts commands on the stream or takes them off starts only on a Redis
    that keeps what it acknowledged (backend/bus/durability.py)."""
    from backend.bus.durability import RedisNotDurable, require_persistence

    try:
        require_persistence(system.redis, system.settings.redis_persistence)
    except RedisNotDurable as exc:
        raise _fail(str(exc)) from None


def _check_city(city: str) -> str:
    if city not in CITY_KINDS:
        raise _fail(f"--city must be one of {', '.join(CITY_KINDS)}, not {city!r}")
    return city


def _system(settings: Settings | None = None, clock: object | None = None):  # type: ignore[no-untyped-def]
    from backend.system import System

    s = settings or load_settings()
    try:
        return System(s, clock or SystemClock())  # type: ignore[arg-type]
    except GridwatchError as exc:
        raise _fail(str(exc)) from None


def _policy_or_fail(system) -> None:  # type: ignore[no-untyped-def]
    from backend.core.errors import SourceError

    try:
        _ = system.policy
        _ = system.calendar
    except SourceError as exc:  # a policy pack or calendar file that cannot be used
        raise _fail(str(exc)) from None


@app.command()
def init(
    city: Annotated[str, typer.Option(help="demo city: small | shangrao | jizhou")] = "small",
    replace: Annotated[bool, typer.Option(help="replace the city already loaded")] = False,
    data: Annotated[
        Path | None,
        typer.Option(help="a folder with a real city's files (areas.csv, units.csv, …)"),
    ] = None,
) -> None:
    """Create or upgrade the schema and load reference data: a city's own files or a demo."""
    from backend.refdata.files import RefDataError

    _setup_logging()
    system = _system()
    _policy_or_fail(system)
    try:
        name = system.init(_check_city(city), replace=replace, data_dir=data)
    except (RefDataError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"database ready: {system.settings.effective_database_url} (city: {name})")


@app.command()
def engine(
    consumer: Annotated[str | None, typer.Option(help="consumer name in the group")] = None,
    batch: Annotated[int, typer.Option(min=1, max=5000)] = 500,
) -> None:
    """Run one engine process: consume the command stream, tick the clock."""
    from backend.engine.worker import EngineWorker

    _setup_logging()
    system = _system()
    _policy_or_fail(system)
    _durable_or_fail(system)
    start_wal_checkpointer(system.db)
    worker = EngineWorker(
        system.engine,
        system.stream,
        consumer=consumer,
        batch_size=batch,
        lease_ms=system.settings.lease_ms,
    )
    from backend.halls.run import start_halls

    halls = start_halls(system)  # the hall processor, under its own lease

    def _stop(*_: object) -> None:
        worker.stop()
        halls.stop()

    signal.signal(signal.SIGTERM, _stop)
    typer.echo(
        f"engine {worker.consumer}: a share of the {system.stream.partitions} partitions "
        f"of {system.keys.partition(0).rsplit(':', 1)[0]}"
    )
    try:
        worker.run()
    except KeyboardInterrupt:
        worker.stop()
    finally:
        halls.stop()


@app.command()
def serve(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8050,
    host: str = "127.0.0.1",
) -> None:
    """Serve the dashboard and the HTTP API."""
    _setup_logging()
    system = _system()
    _policy_or_fail(system)
    _durable_or_fail(system)
    # a database server means web processes that may sit on other machines: each would sign
    # cookies with a key of its own, and a person signed in on one is refused by the next one
    # the proxy picks
    shared = not system.settings.effective_database_url.startswith("sqlite")
    if shared and system.settings.secret_key is None:
        log.warning(
            "GRIDWATCH_SECRET_KEY is not set: this web process signs sessions with the key in %s;"
            " behind a proxy, set the same GRIDWATCH_SECRET_KEY on every web process",
            system.settings.var_dir,
        )
    _serve(system, host, port)


def _serve(system, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from dashboard.app import create_app

    server = create_app(system)
    typer.echo(f"dashboard on http://{host}:{port}/")
    # behind nginx the peer is the proxy: the client's address (the rate limits' key) and
    # scheme (a Secure cookie) come from X-Forwarded-For / -Proto, believed only from a
    # trusted proxy (GRIDWATCH_TRUSTED_PROXIES)
    uvicorn.run(
        server,
        host=host,
        port=port,
        log_level="warning",
        ws="wsproto",
        ws_per_message_deflate=system.settings.ws_deflate,
        proxy_headers=True,
        forwarded_allow_ips=system.settings.trusted_proxies,
    )


def _progress_printer(end: datetime, start: datetime):  # type: ignore[no-untyped-def]
    total = (end - start).total_seconds()
    last = [0.0]

    def show(t: datetime, stats) -> None:  # type: ignore[no-untyped-def]
        import time as _time

        now = _time.monotonic()
        if now - last[0] < 0.5 and t < end:
            return
        last[0] = now
        done = (t - start).total_seconds() / total
        bar = "#" * int(done * 30)
        sys.stderr.write(
            f"\r[{bar:<30}] {done:6.1%}  {t:%Y-%m-%d}  cases {stats.commands:>9,} cmds  "
            f"{stats.events:>10,} events  {stats.events / max(stats.wall_seconds, 1e-9):>8,.0f}/s"
        )
        sys.stderr.flush()
        if t >= end:
            sys.stderr.write("\n")

    return show


@app.command()
def simulate(
    city: Annotated[str, typer.Option(help="small | shangrao | jizhou")] = "small",
    days: Annotated[float, typer.Option(min=0.01)] = 1.0,
    speed: Annotated[float, typer.Option(min=1.0, help="simulated seconds per wall second")] = 60,
    fast: Annotated[bool, typer.Option(help="as fast as the machine allows, then exit")] = False,
    start: Annotated[str | None, typer.Option(help="start date YYYY-MM-DD (local)")] = None,
    seed: int = 42,
    rate: Annotated[
        float | None,
        typer.Option(min=0.0, help="cases per grid per day (default: the city's profile)"),
    ] = None,
) -> None:
    """Run the simulated city, calibrated to its profile (backend/sim/profiles.py)."""
    from backend.sim.handover import go_live
    from backend.sim.profiles import PROFILES, sim_config
    from backend.sim.runner import run_fast
    from backend.sim.simulator import CitySimulator

    _setup_logging()
    _check_city(city)
    settings = load_settings()
    try:
        begin = _start_time(start, settings.tz)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    cfg = sim_config(PROFILES[city], seed=seed, rate=rate)
    if fast:
        clock = ManualClock(begin)
        system = _system(settings, clock)
        start_wal_checkpointer(system.db)
        _policy_or_fail(system)
        system.init(city)
        sim = CitySimulator(system.ref, system.tz, cfg)
        end = begin + timedelta(days=days)
        stats = run_fast(
            system.engine, sim, begin, end, clock=clock, progress=_progress_printer(end, begin)
        )
        typer.echo(
            json.dumps(
                {
                    "sim_days": stats.sim_days,
                    "cases": sim.stats.created,
                    "commands": stats.commands,
                    "events": stats.events,
                    "refused": stats.refused,
                    "wall_seconds": round(stats.wall_seconds, 2),
                    "events_per_second": round(stats.events / max(stats.wall_seconds, 1e-9)),
                }
            )
        )
        return
    scaled = ScaledClock(begin, speed)
    system = _system(settings, scaled)
    start_wal_checkpointer(system.db)
    _policy_or_fail(system)
    _durable_or_fail(system)
    system.init(city)
    sim = CitySimulator(system.ref, system.tz, cfg)
    live = go_live(system, sim, scaled, consumer="simulate")
    stop_at = begin + timedelta(days=days)
    try:
        while scaled.now() < stop_at:
            threading.Event().wait(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        live.stop()


def _start_time(text: str | None, tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    if text is None:
        return SystemClock().now()
    try:
        d = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--start {text!r} is not a date like 2026-11-23") from None
    return datetime.combine(d, time(0), ZoneInfo(tz)).astimezone(UTC)


@app.command()
def report(
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    from_: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    to: Annotated[str | None, typer.Option(help="day after the last, YYYY-MM-DD")] = None,
    policy: Annotated[Path | None, typer.Option(help="check this policy file first")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the report's clock, ISO 8601 with offset")
    ] = None,
    halls: Annotated[
        bool, typer.Option("--halls", help="add the service halls' figures (on post, alerts)")
    ] = False,
) -> None:
    """The periodic report's numbers (DESIGN.md, "Report definitions")."""
    from zoneinfo import ZoneInfo

    from backend.deadlines.policy import PolicyError, load_policy
    from backend.queries.hall_report import hall_figures
    from backend.queries.reports import FIGURES, build_report
    from backend.store.models import cases

    settings = load_settings()
    if policy is not None:
        try:
            load_policy(policy)
        except (PolicyError, OSError) as exc:
            raise _fail(str(exc)) from None
    system = _system(settings)
    tz = ZoneInfo(settings.tz)
    with system.db.connect() as conn:
        try:
            lo = _day(from_, tz) if from_ else None
            hi = _day(to, tz) if to else None
        except ValueError as exc:
            raise _fail(str(exc)) from None
        if lo is not None and hi is not None and hi < lo:
            raise _fail(f"--to {to} is before --from {from_}")
        if lo is None or hi is None:
            first, last = conn.execute(
                select(func.min(cases.c.reported_at), func.max(cases.c.reported_at))
            ).one()
            lo = lo or (first or SystemClock().now())
            hi = hi or ((last + timedelta(seconds=1)) if last else SystemClock().now())
        # the report's clock: now, or the newest change when a simulated city runs ahead
        newest = conn.execute(select(func.max(cases.c.updated_at))).scalar()
        now = max(SystemClock().now(), newest) if newest else SystemClock().now()
        if as_of is not None:
            try:
                now = datetime.fromisoformat(as_of)
            except ValueError:
                bad = f"--as-of {as_of!r} is not a time like 2026-11-23T09:00+08:00"
                raise _fail(bad) from None
            if now.tzinfo is None:
                raise _fail("--as-of needs a timezone offset, e.g. +08:00")
        out = build_report(conn, lo, hi, now, scope=Scope.city())
        if halls:  # attendance and discipline per service hall, over the same days
            out["halls"] = hall_figures(
                conn, system.halls, lo, min(hi, now), system.calendar, tz, scope=Scope.city()
            )
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        for k in FIGURES:
            typer.echo(f"{k:>24}: {out[k]}")


def _day(text: str, tz) -> datetime:  # type: ignore[no-untyped-def]
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tz)
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-11-23") from None


@apikey_app.command("create")
def apikey_create(
    name: str,
    allow: Annotated[
        str,
        typer.Option(
            help="what the key may do, comma-separated: report, public, read, personal, act, halls"
        ),
    ] = "report,public",
    area: Annotated[str | None, typer.Option(help="the area it sees (default: the city)")] = None,
) -> None:
    """Print a new API key for an integration (shown once)."""
    from backend.auth import audit
    from backend.auth.apikeys import create_key
    from backend.auth.permissions import parse_key_permissions
    from backend.store.migrate import upgrade

    try:
        permissions = parse_key_permissions(allow)
    except ValueError as exc:
        raise _fail(f"--allow: {exc}") from None
    system = _system()
    upgrade(system.db)
    if area is not None and area not in system.ref.area_levels:
        raise _fail(f"--area: no area {area!r}")
    now = SystemClock().now()
    try:
        with system.db.begin() as conn:
            key = create_key(conn, name, now, permissions, area)
            audit.record(conn, now, "cli", "key_created", name, allow=sorted(permissions))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(key)


@apikey_app.command("revoke")
def apikey_revoke(name: str) -> None:
    """Revoke every key of an integration, at once in every web process."""
    from backend.auth import audit
    from backend.auth.apikeys import revoke_keys

    system = _system()
    now = SystemClock().now()
    with system.db.begin() as conn:
        digests = revoke_keys(conn, name)
        if digests:
            audit.record(conn, now, "cli", "key_revoked", name, keys=len(digests))
    if not digests:
        raise _fail(f"no live key named {name!r}", 1)
    system.redis.sadd(system.keys.revoked_keys, *digests)
    typer.echo(f"revoked {len(digests)} key(s) of {name}")


@apikey_app.command("list")
def apikey_list() -> None:
    """The keys: name, prefix, permissions, area, created, revoked."""
    from backend.store.models import api_keys

    system = _system()
    with system.db.connect() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).mappings().all()
    for r in rows:
        perms = ",".join(r["permissions"] or ["(all: made before permissions)"])
        state = "revoked" if r["revoked"] else "live"
        typer.echo(f"{r['name']}\t{r['prefix']}…\t{perms}\t{r['area_code'] or 'city'}\t{state}")


@user_app.command("create")
def user_create(
    name: str,
    role: Annotated[
        str, typer.Option(help="duty_officer | leader | handler | hall_supervisor | admin")
    ],
    area: Annotated[
        str | None, typer.Option(help="the area the person sees (default: the city)")
    ] = None,
    unit: Annotated[list[str] | None, typer.Option(help="a handler's unit (repeatable)")] = None,
    display_name: Annotated[str | None, typer.Option(help="the name shown on screens")] = None,
    password: Annotated[
        str | None, typer.Option(help="the password (default: one is made and printed)")
    ] = None,
    sso_subject: Annotated[
        str | None,
        typer.Option(help="the person's subject at the identity service (single sign-on)"),
    ] = None,
) -> None:
    """Create a person who signs in to the screens."""
    import secrets

    from backend.auth import audit
    from backend.auth.accounts import AccountError, create_user
    from backend.store.migrate import upgrade

    system = _system()
    upgrade(system.db)
    made = password is None
    password = password or secrets.token_urlsafe(12)
    now = SystemClock().now()
    try:
        with system.db.begin() as conn:
            person = create_user(
                conn,
                username=name,
                password=password,
                role=role,
                now=now,
                display_name=display_name,
                area_code=area,
                units=unit or [],
                known_areas=set(system.ref.area_levels),
                known_units=set(system.ref.units),
                oidc_subject=sso_subject,
            )
            audit.record(conn, now, "cli", "user_created", name, role=role, area=area)
    except AccountError as exc:
        raise _fail(
            "; ".join(f"--{k.replace('_', '-')}: {v}" for k, v in exc.errors.items())
        ) from None
    typer.echo(f"created {person.username} ({person.role.value}, {person.area_code or 'city'})")
    if made:
        typer.echo(f"password: {password}")


@user_app.command("list")
def user_list() -> None:
    """Everyone who may sign in: name, role, area, units, state."""
    from backend.auth.accounts import list_users

    system = _system()
    with system.db.connect() as conn:
        rows = list_users(conn)
    for r in rows:
        state = "active" if r["active"] else "disabled"
        units = ",".join(r["units"] or []) or "-"
        typer.echo(f"{r['username']}\t{r['role']}\t{r['area_code'] or 'city'}\t{units}\t{state}")


@user_app.command("reset-password")
def user_reset_password(
    name: str,
    password: Annotated[str | None, typer.Option(help="default: one is made and printed")] = None,
) -> None:
    """Set a new password, lift a lockout and end the person's sessions."""
    import secrets

    from backend.auth import audit
    from backend.auth.accounts import AccountError, find_user, set_password

    system = _system()
    made = password is None
    password = password or secrets.token_urlsafe(12)
    now = SystemClock().now()
    try:
        with system.db.begin() as conn:
            set_password(conn, name, password, now)
            row = find_user(conn, name)
            audit.record(conn, now, "cli", "password_reset", name)
    except AccountError as exc:
        raise _fail("; ".join(exc.errors.values())) from None
    system.sessions.end_all(int(row["id"]))
    typer.echo(f"password of {name} reset; their sessions ended")
    if made:
        typer.echo(f"password: {password}")


@user_app.command("disable")
def user_disable(name: str) -> None:
    """Refuse the person's logins from now on and end their sessions (their record stays)."""
    from backend.auth import audit
    from backend.auth.accounts import AccountError, find_user, set_active

    system = _system()
    now = SystemClock().now()
    try:
        with system.db.begin() as conn:
            set_active(conn, name, False)
            row = find_user(conn, name)
            audit.record(conn, now, "cli", "user_disabled", name)
    except AccountError as exc:
        raise _fail("; ".join(exc.errors.values())) from None
    system.sessions.end_all(int(row["id"]))
    typer.echo(f"{name} disabled; their sessions ended")


@dead_app.command("list")
def dead_list(count: int = 100) -> None:
    """Show commands set aside, with the reason."""
    system = _system()
    for row in system.stream.dead_letters(count):
        typer.echo(f"{row['id']}  {row['error']}\n    {row['c'][:200]}")


@dead_app.command("replay")
def dead_replay(ids: Annotated[list[str] | None, typer.Argument()] = None) -> None:
    """Put dead letters (all, or those named) back on the command stream."""
    system = _system()
    n = system.stream.replay_dead(ids or None)
    typer.echo(f"replayed {n} command(s)")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="the export to load")],
    format: Annotated[
        str, typer.Option("--format", help="la311 | nyc311 | open311 | table (with --mapping)")
    ],
    mapping: Annotated[
        Path | None, typer.Option(help="YAML: columns (table), request types, channels, units")
    ] = None,
    tz: Annotated[str | None, typer.Option(help="zone of times without an offset")] = None,
    date_format: Annotated[
        str | None,
        typer.Option(help="force the dates' format: ymd | mdy | dmy | excel | a strptime pattern"),
    ] = None,
    batch: Annotated[
        int | None, typer.Option(min=1, max=50000, help="rows of the file per SQL transaction")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="stop after this many rows")] = None,
    progress: Annotated[bool, typer.Option(help="progress bar on stderr")] = True,
    bulk: Annotated[
        bool, typer.Option(help="bulk writes (default), or --no-bulk: through the engine")
    ] = True,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=16, help="processes sharing the file (default: 2 on 2+ cores)"),
    ] = None,
) -> None:
    """Load historical cases from a civic-data export (MyLA311 or NYC 311 CSV, Open311 JSON, a
    CSV or .xlsx with its own columns named by --mapping). Bad rows are listed as
    file:line:column and skipped; exit 3 when any were."""
    from backend.importers.run import import_file

    system = _system()
    _policy_or_fail(system)
    code = import_file(
        system,
        file,
        format,
        mapping=mapping,
        tz=tz,
        date_format=date_format,
        batch=batch,
        limit=limit,
        progress=progress,
        bulk=bulk,
        workers=workers,
    )
    raise typer.Exit(code)


@sync_app.command("open311")
def sync_open311(
    url: Annotated[str, typer.Argument(help="the GeoReport v2 base, e.g. https://…/open311/v2")],
    since: Annotated[
        str | None, typer.Option(help="first run: from this date (later runs continue)")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="YAML: service codes, channels, units")
    ] = None,
    timeout: Annotated[float, typer.Option(min=1.0, help="seconds per HTTP request")] = 30.0,
) -> None:
    """Pull another city's Open311 server: what changed since the last run (or --since), a
    window at a time; safe to interrupt and run again."""
    from backend.importers.sync import run_sync

    system = _system()
    _policy_or_fail(system)
    code = run_sync(
        system, url, since=since, mapping=mapping, timeout=timeout, out=sys.stdout, err=sys.stderr
    )
    raise typer.Exit(code)


@app.command()
def demo(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8050,
    speed: Annotated[float, typer.Option(min=1.0)] = 60.0,
    city: Annotated[str, typer.Option(help="small | shangrao | jizhou")] = "small",
    history_days: Annotated[
        float, typer.Option(min=0.0, help="days simulated before going live")
    ] = 3,
    rate: Annotated[
        float | None,
        typer.Option(min=0.0, help="cases per grid per day (default: the city's profile)"),
    ] = None,
    story: Annotated[
        bool, typer.Option(help="open with an urgent report, overdue cases, a 会商, a reopening")
    ] = True,
) -> None:
    """Everything in one command: database, embedded Redis, engine, simulated city, dashboard."""
    from backend.sim.demo import run_demo

    _setup_logging()
    _check_city(city)
    run_demo(
        port=port,
        speed=speed,
        city=city,
        history_days=history_days,
        rate=rate,
        serve=_serve,
        story=story,
    )


def main() -> None:
    """The ``gridwatch`` command. SIGTERM and SIGHUP end it as Ctrl-C does, through the
    clean-up that stops what it started (the embedded Redis server, child jobs)."""
    from backend.core.runtime import exit_on_signals

    exit_on_signals()
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()

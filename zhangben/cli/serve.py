"""Running the service: ``zhangben db upgrade``, ``zhangben demo`` and ``zhangben serve``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from zhangben.cli.common import console, friendly, ledger, open_engine, settings
from zhangben.settings import get_settings
from zhangben.store.migrate import upgrade

WORKER_HEALTHCHECK_S = 60

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Apply every migration that is missing (safe to run again)."""
    engine = open_engine()
    upgrade(engine)
    console.print(f"schema up to date ({engine.url.render_as_string(hide_password=True)})")


@friendly
def demo() -> None:
    """Load the small demo ledger into an empty database."""
    from zhangben.demo.ledger import load_demo

    if load_demo(ledger()):
        console.print("demo ledger loaded")
    else:
        console.print("the ledger already has accounts; demo not loaded")


def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: int = 1,
    demo_data: Annotated[
        bool, typer.Option("--demo", help="load the demo ledger if empty")
    ] = False,
) -> None:
    """Run the HTTP service (Swagger UI at /docs)."""
    import os

    import uvicorn

    s = settings()
    lg = ledger()
    if demo_data:
        from zhangben.demo.ledger import load_demo

        load_demo(lg)
    os.environ["ZHANGBEN_DATABASE_URL"] = s.database_url
    get_settings.cache_clear()  # read before --db applied: the app (and each worker) rereads
    host, port = host or s.host, port or s.port
    console.print(
        f"zhangben serving {lg.database} on http://{host}:{port} (docs: http://{host}:{port}/docs)"
    )
    config = uvicorn.Config(
        "zhangben.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        log_config=log_config(s.log_format),
        # how long a worker may take to answer the supervisor's ping before it is killed and
        # replaced; uvicorn's 5 s is shorter than a worker's boot on a loaded machine, where
        # workers were killed mid-start again and again and the server never came up
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )
    with metrics_dir(s.metrics, workers):
        if workers > 1:
            # uvicorn binds the shared socket with protocol 0, so asyncio never sets
            # TCP_NODELAY on its connections and every keep-alive response waits for a
            # delayed ACK (~40 ms); bind it ourselves as an explicit TCP socket instead.
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[tcp_listener(host, port)]).run()
        else:
            uvicorn.Server(config).run()


@contextmanager
def metrics_dir(metrics: bool, workers: int) -> Iterator[str | None]:
    """prometheus-client's multiprocess mode, for metrics over ``--workers N``: a directory
    the workers count in (``PROMETHEUS_MULTIPROC_DIR``), empty at start. One of the
    caller's (also with one worker), else a temporary one, removed at exit."""
    import glob
    import os
    import shutil
    import tempfile

    from zhangben.web.metrics import MULTIPROC_ENV

    given = os.environ.get(MULTIPROC_ENV)
    if not metrics or (workers < 2 and not given):
        yield None
        return
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in glob.glob(os.path.join(given, "*.db")):  # a previous run's values
            os.remove(stale)
        yield given
        return
    path = tempfile.mkdtemp(prefix="zhangben-metrics-")
    os.environ[MULTIPROC_ENV] = path  # inherited by the worker processes
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


def log_config(log_format: str = "text") -> dict:
    """uvicorn's own logging configuration, plus the ``zhangben`` loggers at INFO on stderr:
    the ShopEx request lines (``zhangben.shopex``), outage lines (``zhangben.outage``) and
    internal errors; with ``json``, every line (uvicorn's too) a JSON object
    (:mod:`zhangben.web.logs`) and one line per request (``zhangben.request``). Applied in
    every worker process."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["zhangben"] = {
        "format": "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
    }
    if log_format == "json":
        for name in ("default", "access", "zhangben"):
            config["formatters"][name] = {"()": "zhangben.web.logs.JsonFormatter"}
    config["handlers"]["zhangben"] = {
        "class": "logging.StreamHandler",
        "formatter": "zhangben",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["zhangben"] = {
        "handlers": ["zhangben"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def tcp_listener(host: str, port: int):
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock

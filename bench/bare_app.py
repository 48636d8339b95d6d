"""The bare endpoint of benchmark 2: the same stack as ``zhangben serve`` (FastAPI on uvicorn,
N worker processes sharing an explicit TCP socket) answering a constant JSON to any POST.

    .venv/bin/python -m bench.bare_app --port 8100 --workers 2
"""

from __future__ import annotations

import argparse

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

CONSTANT = {"code": 0, "msg": "ok", "data": {"id": 1, "amount": "1.00"}}


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/{path:path}")
    async def constant(path: str, request: Request) -> JSONResponse:
        await request.body()  # read the request like the real routes do
        return JSONResponse(CONSTANT)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    return app


def main() -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from zhangben.cli.serve import tcp_listener

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = uvicorn.Config(
        "bench.bare_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    if args.workers > 1:
        Multiprocess(config, sockets=[tcp_listener(args.host, args.port)]).run()
    else:
        uvicorn.Server(config).run()


if __name__ == "__main__":
    main()

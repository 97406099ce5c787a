"""``python -m taskmarket.stripe_emulator --port 12111``: run the emulator in the foreground."""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app
from .faults import Faults
from .state import EmulatorConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m taskmarket.stripe_emulator",
                                     description="Run the Stripe API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", help="POST signed events here")
    parser.add_argument("--webhook-secret", help="whsec_... signing secret (generated if omitted)")
    parser.add_argument("--platform-balance", type=int, help="available balance in minor units (default unlimited)")
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--commit-then-drop-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--state-file", help="keep accounts, transfers... in this SQLite file "
                        "across restarts (default: in memory)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    config = EmulatorConfig(
        faults=Faults(failure_rate=args.failure_rate, commit_then_drop_rate=args.commit_then_drop_rate,
                      seed=args.seed),
        platform_balance=args.platform_balance,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        state_path=args.state_file,
    )
    app = create_app(config)
    state = app.state.emulator
    print(f"Stripe emulator on http://{args.host}:{args.port}  (control: /_emulator/)", flush=True)
    if state.webhooks.enabled:
        print(f"Webhooks -> {state.webhooks.url}  secret {state.webhooks.secret}", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        state.close()


if __name__ == "__main__":
    main()

"""A small in-process emulator of the Stripe REST API: connected accounts, Account Links and
a hosted onboarding page, transfers, reversals, signed webhooks (retried until
acknowledged). With ``EmulatorConfig(state_path=...)`` its state lives in a SQLite file
and survives restarts. It imports nothing of taskmarket: it stands in for Stripe.

Usage::

    emu = start_emulator()                      # uvicorn on a free 127.0.0.1 port, daemon thread
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": emu.url})  # or stripe.api_base = emu.url
    emu.state.set_faults(failure_rate=0.2, commit_then_drop_rate=0.1, seed=1)
    emu.state.configure_webhooks("http://127.0.0.1:8000/stripe/webhook", "whsec_test")
    emu.stop()

Standalone: ``python -m taskmarket.stripe_emulator --port 12111``; HTTP control under ``/_emulator/``.
"""

from .app import create_app
from .errors import ApiError
from .faults import Fault, Faults
from .server import RunningEmulator, RunningServer, serve_app, start_emulator
from .state import DEFAULT_API_VERSION, EmulatorConfig, EmulatorState
from .store import IdempotentResponse, Store
from .webhooks import Delivery, WebhookSender, sign_payload

__all__ = [
    "ApiError",
    "DEFAULT_API_VERSION",
    "Delivery",
    "EmulatorConfig",
    "EmulatorState",
    "Fault",
    "Faults",
    "IdempotentResponse",
    "RunningEmulator",
    "RunningServer",
    "Store",
    "WebhookSender",
    "create_app",
    "serve_app",
    "sign_payload",
    "start_emulator",
]

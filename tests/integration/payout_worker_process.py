"""A `taskmarket worker`-like process for the crash test (run as a script, not collected).

    python payout_worker_process.py DATABASE_JSON EMULATOR_URL [--die-after-transfer]

With --die-after-transfer it SIGKILLs itself right after Stripe created a transfer and
before the payout is recorded: the worst moment for a crash.
"""

import json
import os
import signal
import sys
import time

from taskmarket.bootstrap import build_marketplace
from taskmarket.database import Database
from taskmarket.jobs.actors import PayoutWorker
from taskmarket.jobs.broker import build_broker
from taskmarket.jobs.runtime import start_background
from taskmarket.jobs.stripe_gateway import StripeGateway


class DiesAfterTransfer(PayoutWorker):
    def after_transfer_created(self, payout_id, transfer_id):
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    database = Database(**json.loads(sys.argv[1]))
    gateway = StripeGateway.connect(None, sys.argv[2])
    dies = "--die-after-transfer" in sys.argv
    marketplace = build_marketplace(database)
    broker = build_broker(database)
    start_background(database, marketplace, broker, gateway, dispatch=False,
                     worker_threads=1, payout_worker=DiesAfterTransfer if dies else PayoutWorker)
    print("ready", flush=True)
    time.sleep(60)  # the test kills or terminates us long before


if __name__ == "__main__":
    main()

"""Chaos: N journeys through the public API while the CPU and GPU workers are SIGKILLed and
Temporal and PostgreSQL are restarted at random moments; nothing may be lost or done twice.

Run by hand from the repository root (never in CI; tests/e2e/test_chaos.py is its short
variant):

    .venv/bin/python bench/chaos.py  # --journeys 200 --baseline 30 --concurrency 6 --seed 7

It starts the whole embedded dev stack as `nexus up` does (PostgreSQL, the Temporal dev server
with its database file, both workers and the API, each its own process, under its supervisor)
on free 127.0.0.1
ports with a fresh state directory, e-mailing through an SMTP server inside this process.
Journeys rotate between three kinds, each driven as the demo brand, ops and a demo creator
would: brief to payout (campaign, bank-transfer funding that ops confirm, publish, apply,
accept, brief, a draft through moderation, approval, final, the payout's bank line settled by
ops, paid); license fee (the same, then a renewal with a fee accepted by the creator, funded,
paid out, and a publication of the asset); moderation (a first draft without any disclosure
sent back for fixing, then a new clip analysed from scratch). A request answered 503 or cut
off is repeated with the same Idempotency-Key; a lost answer is confirmed by a read.

1. baseline: B journeys, at most C at a time, nothing disturbed: journeys/s, and what each
   kind of journey notifies.
2. chaos: N journeys, at most C at a time, while a monkey picks one action 5-20 s after the
   stack recovered from the last: SIGKILL the CPU worker, SIGKILL the GPU worker, stop
   Temporal (SIGTERM) - the supervisor of `nexus up` starts each again, 1 s later and longer
   while it keeps crashing - and restart PostgreSQL (pg_ctl stop -m fast, 0.2-3 s down).
3. audit, when every campaign has completed: journeys that did not reach their end state
   within the bound (--timeout per wait) and workflows not completed or failed (Temporal
   visibility); duplicate payouts, bank transfers, ledger movements, e-mails (by Message-ID),
   notifications (beyond what the same kind of journey notified in the baseline) and
   publications; ledger violations; server errors other than 503. All must be zero.

One JSON line on stdout (the figures, and `ratio`: chaos journeys/s over baseline journeys/s);
progress on stderr; the stack is always stopped. Exit status 1 when any count is not zero.

Caveat: load generator, SMTP server, stack and its restarts share the machine (2 cores here):
compare the ratio, and only between runs on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

# `tests` is importable from the repository root, where the harness lives.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nexus.devstack import StackError
from nexus.settings import Settings
from tests.e2e import chaos_support as chaos

NOTE = "2 cores shared by load generator, SMTP server, API, Temporal, workers, PostgreSQL"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--journeys", type=int, default=200, help="chaos journeys (200)")
    parser.add_argument("--baseline", type=int, default=30, help="undisturbed journeys (30)")
    parser.add_argument("--concurrency", type=int, default=6, help="journeys at once (6)")
    parser.add_argument("--seed", type=int, default=7, help="of the monkey's choices (7)")
    parser.add_argument("--timeout", type=float, default=180.0, help="s per wait (180)")
    args = parser.parse_args(argv)
    if min(args.journeys, args.concurrency) < 1 or args.baseline < len(chaos.KINDS):
        parser.error("--journeys, --concurrency >= 1; --baseline >= 3 (one of each kind)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = chaos.Plan(
        journeys=args.journeys,
        baseline=args.baseline,
        concurrency=args.concurrency,
        seed=args.seed,
        timeout_s=args.timeout,
    )
    state_dir = chaos.new_state_dir()
    ok = clean = False
    with contextlib.ExitStack() as cleanup:
        mailbox, smtp_port = cleanup.enter_context(chaos.smtp_server())
        os.environ.update(chaos.chaos_environment(state_dir / "stack", smtp_port))
        stack = chaos.ChaosStack(Settings())
        try:
            chaos.log(f"starting the stack (state in {state_dir})")
            stack.start()
            result = asyncio.run(chaos.run(stack, mailbox, plan, state_dir))
            for detail in result.audit.details[:50]:
                chaos.log(f"  {detail}")
            figures = {"bench": "chaos", **result.figures(), "seed": args.seed, "note": NOTE}
            print(json.dumps(figures, separators=(",", ":")), flush=True)
            ok, clean = True, result.audit.clean()
        except StackError as exc:
            chaos.log(f"the stack did not start: {exc}")
        except (RuntimeError, OSError) as exc:
            chaos.log(f"failed: {type(exc).__name__}: {exc}")
        finally:
            chaos.log("stopping the stack")
            stack.stop()
    if ok and clean:
        shutil.rmtree(state_dir, ignore_errors=True)
    else:
        chaos.log(f"state and logs kept in {state_dir}")
    return 0 if clean else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal SDK may abort at interpreter teardown in a client-only process
    # (sdk-python#300): everything is reported and stopped, so leave now.
    os._exit(code)

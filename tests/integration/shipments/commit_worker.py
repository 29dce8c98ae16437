"""Run one commit of a month in its own process (for the crash and concurrency tests).

    python -m tests.integration.shipments.commit_worker DATABASE_URL RUN_ID CHUNK_SIZE PAUSE_SECONDS [START_AT]

Prints one line: DONE <shipments> <items> <resumed>, BUSY, COMMITTED or ERROR <type>. PAUSE_SECONDS
is slept after every chunk so a test can stop the process between (or, with 0, during) chunks;
START_AT (a time.time() value) lines two workers up to start together.
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    url, run_id, chunk, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    start_at = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    import outreach.models  # noqa: F401
    from outreach.db import database
    from outreach.shipments import services
    from tests.integration.shipments.factories import TODAY

    database.configure(url)
    if start_at:
        time.sleep(max(0.0, start_at - time.time()))
    try:
        outcome = services.commit_run(database.session_scope, run_id, chunk_size=chunk, today=TODAY,
                                      on_chunk=lambda _o: time.sleep(pause) if pause else None)
    except services.AlreadyCommitted:
        print("COMMITTED", flush=True)
        return
    except services.RunBusy:
        print("BUSY", flush=True)
        return
    except Exception as exc:  # noqa: BLE001 - reported to the test
        print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
        sys.exit(1)
    print(f"DONE {outcome.shipments} {outcome.items} {int(outcome.resumed)}", flush=True)


if __name__ == "__main__":
    main()

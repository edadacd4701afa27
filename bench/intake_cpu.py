"""CPU a ticket of the API's intake, in-process and without HTTP, so that a loaded machine
changes it less than a rate: routing's proposal (the classifier) and the transaction, for
batches routed together (dispatch.intake.proposals_for) and written by dispatch.intake_many
beside the same batches routed and written one request at a time in savepoints (the path a
failed batch falls back to, and how every batch was routed and written before), in the same
run; with the statements each costs.

    .venv/bin/python bench/intake_cpu.py --database-url postgresql://postgres@127.0.0.1/bench_intake [--batch 16]

The database is rebuilt with the demo city (as bench/intake_http.py does). The texts are
dev.csv's, 4 in 5 with a phone of their own.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import intake_http  # noqa: E402  (bench/intake_http.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite", help="'sqlite' (a temp file) or a PostgreSQL URL (rebuilt)")
    parser.add_argument("--batch", type=int, action="append", help="requests a batch (repeat); default 1 and 16")
    parser.add_argument("--tickets", type=int, default=320, help="per measurement")
    parser.add_argument("--model-dir", default="models")
    args = parser.parse_args()

    import tempfile

    from sqlalchemy import event

    from classifier import ensure_default_model
    from dispatch.intake import IntakeRequest, proposal_for, proposals_for
    from dispatch.intake_many import Submission, intake_many, intake_one
    from dispatch.vocabulary import Channel
    from web import intake_batch
    from web.config import Settings
    from web.services import Services

    tmp = tempfile.TemporaryDirectory()
    url = f"sqlite:///{tmp.name}/intake.db" if args.database_url == "sqlite" else args.database_url
    model_dir = Path(args.model_dir).resolve()
    model = ensure_default_model(model_dir)
    intake_http.prepare(url)
    services = Services.build(Settings.from_env(intake_http.hotline_env(url, model_dir)))
    services.router.model = model
    messages = intake_http.texts(1000)
    statements = [0]
    event.listen(services.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))

    def many(batch: list[Submission]) -> list[object]:
        return services.run_sync(lambda s: intake_many(s, batch, services.rules, services.settings.limits,
                                                       router=services.router))

    def one_by_one(batch: list[Submission]) -> list[object]:
        return intake_batch._write_one_by_one(
            services, lambda s, one: intake_one(s, one, services.rules, services.settings.limits,
                                                router=services.router), batch)

    next_phone = [0]

    def measure(write, size: int, count: int) -> tuple[float, float, float, float]:
        classify = transaction = 0.0
        before = statements[0]
        started = time.perf_counter()
        for _ in range(0, count, size):
            requests = []
            for _ in range(size):
                next_phone[0] += 1
                n = next_phone[0]
                message = messages[n % len(messages)]
                requests.append(IntakeRequest(channel=Channel.WEB, body=message["body"], title=message["title"],
                                              phone=f"138{n:08d}" if n % 5 else None))
            tick = time.process_time()
            if write is many:  # routed together, as web/proposal_batch.py does
                proposals = proposals_for(requests, services.rules, services.router)
            else:  # one at a time, as every request was before
                proposals = [proposal_for(r, services.rules, services.router) for r in requests]
            batch = [Submission(r, p, "127.0.0.1") for r, p in zip(requests, proposals)]
            tock = time.process_time()
            outcomes = write(batch)
            assert all(ok for ok, _ in outcomes), outcomes  # type: ignore[misc]
            classify += tock - tick
            transaction += time.process_time() - tock
        wall = time.perf_counter() - started
        return (classify * 1000 / count, transaction * 1000 / count, (statements[0] - before) / count,
                wall * 1000 / count)

    print(f"machine: load average {os.getloadavg()[0]:.1f}; {services.engine.dialect.name}")
    measure(many, 4, 40)  # warm: first-use costs are not per ticket
    measure(one_by_one, 4, 40)
    for size in args.batch or [1, 16]:
        for name, write in (("one by one (baseline)", one_by_one), ("intake_many", many)):
            classify, transaction, per_ticket, wall = measure(write, size, args.tickets)
            print(f"batches of {size:>3}, {name:<22} CPU a ticket: routing {classify:5.2f} ms, transaction "
                  f"{transaction:5.2f} ms; {per_ticket:4.1f} statements a ticket; wall {wall:6.1f} ms a ticket")
    print(f"machine: load average {os.getloadavg()[0]:.1f}")
    services.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()

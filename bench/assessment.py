"""The monthly assessment (考核) and the hotspots (热点): how long they take.

    .venv/bin/python bench/assessment.py [--demo-database sqlite:////tmp/demo.db]
        [--database-url postgresql://postgres@127.0.0.1/bench_assessment] [--streets 343] [--per-day 3000]

Two databases:
- the demo's (90 days of Jiyuan, 33 units, about 23,000 tickets), made by dispatch.demo as
  `hotline serve --demo` makes it, unless --demo-database names one already made (at migration 0020 or later);
- a city of --streets township units (Beijing ranks 343 streets and townships a month) plus
  the demo's departments, every category handled by the street the text names, --days of
  history at about --per-day tickets a working day (dispatch.demo_history, the same story per
  ticket), in --database-url (a SQLite file in a temporary folder by default). Rebuilt each run.

For each: dispatch.assessment.assessment() of the last full month and dispatch.hotspots.hotspots()
of one day, seven and 31 (with the gram index and the tickets' townships kept between calls, as
the app keeps them; the first call, which counts every text's grams, shown apart), each the
median of --repeat runs, beside the baseline measured in the same run on the same database:
reports.unit_figures() of the same month (the supervisor page's units table, which the
assessment builds on) and reports.summary() of the same days; and its clusters beside the same
clusters with every township's pairs bounded and listed (as before a township could be
multiplied out) and with every pair scored one by one. --reuse measures a city of
streets an earlier run left at --database-url instead of building it again.
"""
from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch import assessment, db, hotspots, reports, similarity  # noqa: E402
from dispatch.clock import local_date, utcnow  # noqa: E402
from dispatch.demo import seed_with_history  # noqa: E402
from dispatch.demo_history import HistorySize  # noqa: E402
from dispatch.intake import IntakeRules  # noqa: E402
from dispatch.units import DEMO_CITY, City, load_city  # noqa: E402


def listing_every_township(*args: Any) -> list[dict[int, float]]:
    """near_pairs as it was before townships were multiplied out: every township's pairs bounded."""
    return hotspots.near_pairs(*args, multiply_townships=False)


def timed(work: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    wall, _, result = timed_both(work, repeat)
    return wall, result


def timed_both(work: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """The median wall time and the median CPU time of this process (which other work on a
    shared machine disturbs less), in ms, and the last result."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = work()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times) * 1000, statistics.median(cpu) * 1000, result


def streets_city(streets: int, folder: Path) -> City:
    """The demo city's departments and categories, with `streets` township units that handle every
    category in their own area."""
    raw = json.loads(DEMO_CITY.read_text(encoding="utf-8"))
    # 沁园街道 stays (a demo account belongs to it) as one of the streets.
    raw["units"] = [u for u in raw["units"] if u["kind"] != "township" or u["code"] == "qinyuan"]
    # And what hung under the townships removed (villages, communities).
    while True:
        codes = {u["code"] for u in raw["units"]}
        kept = [u for u in raw["units"] if not u.get("parent") or u["parent"] in codes]
        if len(kept) == len(raw["units"]):
            break
        raw["units"] = kept
    raw["gazetteer"] = {"qinyuan": raw["gazetteer"]["qinyuan"]}
    for i in range(2, streets + 1):
        code, name = f"street-{i:03d}", f"第{i:03d}街道"
        raw["units"].append({"code": code, "name": name, "kind": "township", "parent": "jiyuan"})
        raw["gazetteer"][code] = [name]
    raw["local_categories"] = sorted(raw["categories"])
    raw["routing_rules"] = []
    path = folder / "streets.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return load_city(path)


def build(url: str, city: City, size: HistorySize) -> float:
    db.recreate_schema(url)
    engine = db.make_engine(url)
    start = time.perf_counter()
    with db.make_sessionmaker(engine).begin() as session:
        seed_with_history(session, city, IntakeRules(), size)
    engine.dispose()
    return time.perf_counter() - start


def measure(label: str, url: str, repeat: int) -> None:
    engine = db.make_engine(url)
    today = local_date(utcnow())
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    month = assessment.month_period(first)
    with db.make_sessionmaker(engine)() as session:
        base_ms, _ = timed(lambda: reports.unit_figures(session, month), repeat)
        ours_ms, found = timed(lambda: assessment.assessment(session, first), repeat)
        transfers = sum(u["transfers"] for u in found["units"])
        print(f"{label}: assessment of {found['month']}: {len(found['units'])} units, {transfers:,} transfers, "
              f"tiers {found['tiers']}")
        print(f"  assessment()      {ours_ms:8.1f} ms   baseline reports.unit_figures() {base_ms:8.1f} ms")
        for days in (1, 7, 31):
            since, until = today - dt.timedelta(days=days), today - dt.timedelta(days=1)
            period = reports.Period(since, until)
            base_ms, _ = timed(lambda: reports.summary(session, period), repeat)
            # As the app calls it: one gram index kept between calls (web.services.Services.hotspot_index).
            index = similarity.new_index()
            first_ms, _ = timed(lambda: hotspots.hotspots(session, since, until, index=index), 1)
            ours_ms, ours_cpu, found = timed_both(lambda: hotspots.hotspots(session, since, until, index=index),
                                                  repeat)
            print(f"  hotspots() {days} day{'s' if days > 1 else ' '}  {ours_ms:8.1f} ms (CPU {ours_cpu:.0f} ms; "
                  f"first call {first_ms:.0f} ms)   baseline reports.summary() {base_ms:8.1f} ms   "
                  f"({len(found['rising'])} rising, {len(found['clusters'])} clusters)")
            rising_ms, rising_cpu, _ = timed_both(lambda: hotspots.rising(session, since, until), repeat)
            print(f"    rising()          {rising_ms:8.1f} ms (CPU {rising_cpu:.0f} ms; counted in SQL)")
            # The clusters alone, beside the same clusters with every township's pairs bounded and
            # listed (before townships were multiplied out) and with the pairs found one by one.
            new_ms, new_cpu, new = timed_both(lambda: hotspots.clusters(session, since, until, index=index), repeat)
            listed_ms, listed_cpu, listed = timed_both(lambda: hotspots.clusters(
                session, since, until, index=index, pairs=listing_every_township), repeat)
            old_ms, old = timed(lambda: hotspots.clusters(session, since, until, index=index,
                                                          pairs=hotspots.near_pairs_one_by_one), repeat)
            print(f"    clusters()        {new_ms:8.1f} ms (CPU {new_cpu:.0f} ms)   every township listed (before) "
                  f"{listed_ms:8.1f} ms (CPU {listed_cpu:.0f} ms)   pairs one by one {old_ms:8.1f} ms   "
                  f"same clusters: {new == listed == old} ({len(new)}, largest {new[0]['count'] if new else 0})")
            print(f"    hotspots() before {rising_ms + listed_ms:8.1f} ms (CPU {rising_cpu + listed_cpu:.0f} ms; "
                  "rising() + clusters() with every township listed)")
    engine.dispose()


@click.command()
@click.option("--demo-database", default=None, help="a demo database already made (else one is made)")
@click.option("--database-url", default=None, help="where the city of streets is built (rebuilt)")
@click.option("--streets", default=343, show_default=True)
@click.option("--days", default=40, show_default=True)
@click.option("--per-day", default=3000, show_default=True)
@click.option("--repeat", default=5, show_default=True)
@click.option("--skip-streets", is_flag=True, help="only the demo database")
@click.option("--reuse", is_flag=True, help="measure the city of streets an earlier run left at --database-url")
def main(demo_database: str | None, database_url: str | None, streets: int, days: int, per_day: int, repeat: int,
         skip_streets: bool, reuse: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if demo_database is None:
            demo_database = f"sqlite:///{folder / 'demo.db'}"
            seconds = build(demo_database, load_city(DEMO_CITY), HistorySize())
            print(f"demo database made in {seconds:.1f} s")
        measure("demo (Jiyuan, 90 days)", demo_database, repeat)
        if skip_streets:
            return
        url = database_url or f"sqlite:///{folder / 'streets.db'}"
        if not (reuse and database_url):
            seconds = build(url, streets_city(streets, folder), HistorySize(days=days, per_day=per_day, seed=343))
            print(f"city of {streets} streets, {days} days at {per_day}/working day, made in {seconds:.1f} s")
        measure(f"{streets} streets", url, repeat)


if __name__ == "__main__":
    main()

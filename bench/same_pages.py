"""The daily pages as one version of the code serves them, written to a directory with the
per-request tokens blanked, so two versions' pages can be compared byte for byte (diff -r):

    .venv/bin/python bench/same_pages.py --database-url postgresql://... --out /tmp/new
    (cd ../old && ../new/.venv/bin/python bench/same_pages.py --database-url ... --out /tmp/old)

Each page is asked twice (the second may come from a cache) and both are written."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_TOKENS = re.compile(r'(name="(?:csrf_token|form_id)" value=")[^"]+|(<meta name="csrf-token" content=")[^"]+')


def _pages(url: str) -> list[tuple[str, str | None, str]]:
    from sqlalchemy import text

    from dispatch import db
    from dispatch.clock import local_date, utcnow

    engine = db.make_engine(url)
    with engine.connect() as connection:   # the same tickets whichever code asks
        picks = connection.execute(text("SELECT number, query_code FROM tickets ORDER BY id LIMIT 3")).all()
    engine.dispose()
    today = local_date(utcnow())
    end = today.replace(day=1) - __import__("datetime").timedelta(days=1)
    since, until = end.replace(day=1), end
    pages = [(f"status{i}", None, f"/status?number={n}&code={c}") for i, (n, c) in enumerate(picks)]
    pages += [("stats_month", None, f"/api/v1/stats?since={since}&until={until}"),
              ("stats_year", None, f"/api/v1/stats?since={today.year}-01-01&until={today.year}-12-31"),
              ("stats_level", None, f"/api/v1/stats?since={since}&until={until}&level=2"),
              ("stats_default", None, "/api/v1/stats"),
              ("stats_empty", None, "/api/v1/stats?since=2020-01-01&until=2020-12-31"),
              ("operator", "operator", "/operator"),
              ("inbox", "housing", "/unit"),
              ("inbox_p2", "housing", "/unit?page=2"),
              ("dashboard", "supervisor", "/supervisor"),
              ("dashboard_7", "supervisor", "/supervisor?days=7"),
              ("dashboard_p2", "supervisor", "/supervisor?overdue_page=2&near_due_page=2"),
              ("board", None, "/board")]
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from web.app import create_app
    from web.config import Settings

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = create_app(Settings(database_url=args.database_url, log_level="WARNING"))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        cookies: dict[str, str] = {}
        for name, who, path in _pages(args.database_url):
            client.cookies.clear()
            if who:
                if who not in cookies:
                    page = client.get("/login").text
                    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
                    client.post("/login", data={"csrf_token": token, "username": who, "password": "hotline-demo"},
                                follow_redirects=False)
                    cookies[who] = client.cookies.get("hotline_session") or ""
                client.cookies.set("hotline_session", cookies[who])
            for n in (1, 2):
                answer = client.get(path)
                body = _TOKENS.sub(lambda m: (m.group(1) or m.group(2)) + "TOKEN", answer.text)
                headers = "".join(f"{k}: {v}\n" for k, v in sorted(answer.headers.items())
                                  if k not in ("set-cookie", "date", "content-length"))
                (out / f"{name}.{n}").write_text(f"{answer.status_code}\n{headers}\n{body}")


if __name__ == "__main__":
    main()

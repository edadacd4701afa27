"""wrk (Debian's package) against a server on loopback, and the staff login it needs: shared by
the benchmarks that measure pages under load (bench/search.py, bench/city.py).

A Python client spends most of a millisecond of CPU per request on this machine and caps a
bare route at 800-1,600 requests/s, so the load comes from wrk, c=32 unless told. wrk says it
accepts gzip, as every browser does (`gzip=False`: it does not); the pages kept in memory
(the board) are then sent gzipped.
"""
from __future__ import annotations

import dataclasses
import re
import subprocess
import tempfile
from pathlib import Path

import httpx

# Asks each path in turn (a different query each request) and prints one RESULT line.
LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%.1f %%.1f %%.1f %%.1f\\n", summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000))
end
"""


@dataclasses.dataclass(frozen=True)
class Result:
    requests: int
    errors: int        # non-2xx/3xx answers, and socket errors and timeouts
    rate: float        # requests/s
    p50_ms: float
    p95_ms: float
    p99_ms: float


def login_cookie(base: str, username: str = "supervisor", password: str = "hotline-demo") -> str:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        response = client.post("/login", data={"csrf_token": token, "username": username, "password": password})
        assert response.status_code == 303, response.text
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def wrk(base: str, paths: list[str], seconds: int, cookie: str = "x=1", connections: int = 32,
        gzip: bool = True) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(LUA % ", ".join(f'"{p}"' for p in paths), encoding="utf-8")
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script),
                              "-H", f"Cookie: {cookie}",
                              "-H", f"Accept-Encoding: {'gzip, deflate' if gzip else 'identity'}", base],
                             capture_output=True, text=True, check=True).stdout
    found = re.search(r"^RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)$", out, re.M)
    assert found, out
    n, errors, duration_us, p50, p95, p99, _mean = found.groups()
    return Result(int(n), int(errors), int(n) / (int(duration_us) / 1e6), float(p50), float(p95), float(p99))

"""Masking's cost on public texts: mask_text over realistic ticket texts and over long
adversarial ones (digits and separators without end, Chinese numerals, letters read as
digits, names in pieces), called as the public views call it (with the citizen's name),
beside a baseline: another version of dispatch/masking.py, run interleaved in the same
process so that both share the machine's noise.

    git show HEAD~1:dispatch/masking.py > /tmp/masking_before.py
    .venv/bin/python bench/masking.py --baseline /tmp/masking_before.py [--repeat 7]

Prints, per kind of text, its length and the best of --repeat runs in milliseconds."""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch.masking import mask_text  # noqa: E402

NAMES = ["欧阳娜娜女士"]
TICKET = ("我是欧阳娜娜，家住济源市天坛街道天坛路3号楼2单元401室，电话13803910012，座机0391-6612345，"
          "身份证410881199001011234。2026-11-01至今路灯坏了，已反映过工单20261101-0001，金额1,234.00元。")
TEXTS = {
    "ticket (x1000)": [TICKET] * 1000,
    "plain words (x1000)": ["路灯坏了，晚上很黑，请尽快修理，谢谢。小区门口的井盖也松了。"] * 1000,
    "digits and separators": ["1。3：8；0|3／9'1=0→0丨1─2 " * 800],
    "digit runs": ["1380391001" * 2000],
    "full stops between digits": ["1。" * 20000],
    "a long run of full stops": ["8" + "。" * 20000 + "8"],
    "numerals": ["幺三八洞三九幺洞洞幺四〇○零一二" * 700],
    "letters among digits": ["13O8l0I3o91OO1 " * 800],
    "mobiles with letters": ["13８0391OO16 " * 3000],
    "words with O and l": ["Hello World, OOO lll III oil pool 2026 " * 300],
    "name pieces": ["欧阳-娜娜 歐陽娜娜 欧阳·娜 欧阳女 San Zhan " * 500],
    "surname, gaps": [("欧" + " " * 50) * 400],
}

Mask = Callable[..., str]


def _baseline(path: str) -> Mask:
    spec = importlib.util.spec_from_file_location("masking_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.mask_text  # type: ignore[no-any-return]


def _run(mask: Mask, texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        mask(text, NAMES)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="another dispatch/masking.py to time beside this one")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    baseline = _baseline(args.baseline) if args.baseline else None
    for kind, texts in TEXTS.items():
        ours = theirs = float("inf")
        for _ in range(args.repeat):
            ours = min(ours, _run(mask_text, texts))
            if baseline is not None:
                theirs = min(theirs, _run(baseline, texts))
        line = f"{kind:26} {sum(map(len, texts)):>7} chars  {ours * 1000:8.1f} ms"
        if baseline is not None:
            line += f"  baseline {theirs * 1000:8.1f} ms  x{ours / theirs:.2f}"
        print(line)


if __name__ == "__main__":
    main()

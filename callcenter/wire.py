"""AMI framing without panoramisk: ``Key: Value`` lines, a blank line ends a message."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

EOL = "\r\n"


def encode(fields: Mapping[str, str]) -> bytes:
    return ("".join(f"{k}: {v}{EOL}" for k, v in fields.items()) + EOL).encode()


def decode(text: str) -> Iterator[dict[str, str]]:
    """Messages in a capture; the banner and lines without ``: `` are skipped.

    Accepts bare ``\\n`` line ends too, as captures edited by hand often have them.
    """
    fields: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if fields:
                yield fields
                fields = {}
            continue
        key, sep, value = line.partition(": ")
        if sep:
            fields[key] = value
        elif line.endswith(":"):
            fields[line[:-1]] = ""
    if fields:
        yield fields

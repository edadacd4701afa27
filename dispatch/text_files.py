"""Text files people bring: a city file, a catalogue, a holiday notice, knowledge base
lines, uploaded or named on the command line. UTF-8, with or without the byte order mark
Windows Notepad and Excel's "CSV UTF-8" put first; any other encoding is refused in words
rather than read as mojibake or failing deep inside a parser."""
from __future__ import annotations

from pathlib import Path

from dispatch.errors import InvalidInput, Reason


def decode_text(raw: bytes, name: str) -> str:
    """The text of a file's bytes; `name` says which file a refusal is about."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file", Reason.NOT_UTF8, name=name) from None


def read_text_file(path: Path) -> str:
    """A file's text (OSError when it cannot be read at all)."""
    return decode_text(Path(path).read_bytes(), Path(path).name)


def read_named_file(path: Path, field: str) -> str:
    """The text of a file a setting or another file names: one that is not there, is a
    folder or may not be read is refused in words naming it (`field`: what the file is)."""
    try:
        return read_text_file(path)
    except FileNotFoundError:
        raise InvalidInput(field, Reason.FILE_NOT_FOUND, path=str(path)) from None
    except IsADirectoryError:
        raise InvalidInput(field, Reason.FILE_IS_FOLDER, path=str(path)) from None
    except PermissionError:
        raise InvalidInput(field, Reason.FILE_NO_PERMISSION, path=str(path)) from None
    except OSError as exc:
        raise InvalidInput(field, Reason.FILE_UNREADABLE, path=str(path), error=exc.strerror or repr(exc)) from None

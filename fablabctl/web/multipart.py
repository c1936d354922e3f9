"""Stream one file field of a multipart/form-data body straight into the design store.

Starlette's form parser spools every file to a temporary file first; an upload then crosses the disk
twice and the size limit, the hash and a full disk are only seen afterwards. Here the bytes of the
`file` part go to a `StagedFile` as they arrive (python-multipart's push parser), other small fields
are ignored, and nothing is read before the route has authenticated the caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from fablabctl.content_store import StagedFile
from fablabctl.errors import Invalid
from fablabctl.i18n import Text

FIELD = "file"
NOT_MULTIPART = Text(
    "Envoyez le fichier en multipart/form-data, dans le champ « file ».",
    "Send the file as multipart/form-data, in the field 'file'.",
)
MALFORMED = Text(
    "Le corps de la requête est mal formé (multipart).", "The request body is malformed (multipart)."
)
_MISSING = {"field": FIELD, "problem": "Field required", "type": "missing"}
FILE_MISSING = Text("Données invalides : file (champ requis).", "Invalid data: file (field required).")


class _FilePart:
    """Parser callbacks: route the `file` part's bytes to a staged file, skip the rest."""

    def __init__(self, stage: Callable[[], StagedFile]) -> None:
        self._stage = stage
        self.staged: StagedFile | None = None
        self.filename: str | None = None
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._current: StagedFile | None = None

    def on_part_begin(self) -> None:
        self._headers = {}
        self._current = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _kind, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") == FIELD.encode() and self.staged is None:
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
            self.staged = self._current = self._stage()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current is not None:
            self._current.write(data[start:end])

    def on_part_end(self) -> None:
        self._current = None


async def receive_file(
    content_type: str | None, body: AsyncIterator[bytes], stage: Callable[[], StagedFile]
) -> tuple[str | None, StagedFile]:
    """Read the body; the `file` field's name and its staged (written, not yet finished) bytes."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Invalid("INVALID_INPUT", NOT_MULTIPART, problems=[_MISSING])
    part = _FilePart(stage)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": part.on_part_begin,
            "on_header_field": part.on_header_field,
            "on_header_value": part.on_header_value,
            "on_header_end": part.on_header_end,
            "on_headers_finished": part.on_headers_finished,
            "on_part_data": part.on_part_data,
            "on_part_end": part.on_part_end,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        if part.staged is not None:
            part.staged.discard()
        raise Invalid("MALFORMED_MULTIPART", MALFORMED) from None
    except BaseException:
        if part.staged is not None:
            part.staged.discard()
        raise
    if part.staged is None:
        raise Invalid(
            "INVALID_INPUT",
            FILE_MISSING,
            problems=[_MISSING],
        )
    return part.filename, part.staged

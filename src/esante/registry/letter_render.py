"""Rendering a batch PDF in a second process while the letters are still being written.

A large letter run spends about half its time writing letters, audit events and outbox
messages to the database, and half drawing pages with ReportLab: both single-threaded
Python. `PipelinedRenderer` forks a process that draws the pages of each chunk as soon
as its transaction commits, so the two halves overlap on two cores. The child only
draws: it never touches the database, and it writes to an unnamed-by-anyone temporary
file (mode 0600) that the parent moves into the private letters storage.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from esante.registry.letter_pdf import LetterPage, render_letters

# Pages per progress report from the child.
REPORT_EVERY = 1000


def _render_in_child(
    pages_in: Connection, reports_out: Connection, path: str, issued_on: datetime.date
) -> None:
    def pages() -> Iterator[LetterPage]:
        drawn = 0
        while (chunk := pages_in.recv()) is not None:
            for page in chunk:
                yield page
                drawn += 1
                if drawn % REPORT_EVERY == 0:
                    reports_out.send(("rendered", REPORT_EVERY))
        if drawn % REPORT_EVERY:
            reports_out.send(("rendered", drawn % REPORT_EVERY))

    try:
        with open(path, "wb") as output:
            count = render_letters(pages(), output, issued_on=issued_on)
        reports_out.send(("done", count))
    except BaseException:
        reports_out.send(("error", traceback.format_exc()))
        raise


class RenderingFailed(Exception):
    pass


class PipelinedRenderer:
    def __init__(self, *, issued_on: datetime.date, progress: Callable[[int], None] | None):
        self.progress = progress
        descriptor, self.path = tempfile.mkstemp(prefix="esante-letters-", suffix=".pdf")
        os.close(descriptor)  # mkstemp made it 0600; the child reopens it by name
        context = multiprocessing.get_context("fork")
        self.pages_out, pages_in = context.Pipe(duplex=False)[::-1]
        reports_in, reports_out = context.Pipe(duplex=False)
        self.reports = reports_in
        self.process = context.Process(
            target=_render_in_child,
            args=(pages_in, reports_out, self.path, issued_on),
            daemon=True,
        )
        self.process.start()
        pages_in.close()
        reports_out.close()
        self.sent = 0

    def send(self, pages: Sequence[LetterPage]) -> None:
        if pages:
            try:
                self.pages_out.send(list(pages))
            except (BrokenPipeError, ConnectionResetError):
                # The child is gone: its last report says why.
                self._read_reports(block=True)
                raise RenderingFailed("the rendering process stopped early") from None
            self.sent += len(pages)
        self._read_reports(block=False)

    def finish(self) -> str:
        """Wait for the last page; the path of the PDF (the caller moves it and removes
        it). Raises RenderingFailed with the child's traceback if drawing failed."""
        self.pages_out.send(None)
        self.pages_out.close()
        count = self._read_reports(block=True)
        self.process.join()
        if count != self.sent:
            raise RenderingFailed(f"pages drawn: {count}, letters sent: {self.sent}")
        return self.path

    def abort(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.discard()

    def discard(self) -> None:
        if os.path.exists(self.path):
            os.remove(self.path)

    def _read_reports(self, *, block: bool) -> int:
        while block or self.reports.poll():
            try:
                kind, value = self._receive()
            except EOFError:
                raise RenderingFailed("the rendering process ended without a word") from None
            if kind == "rendered" and self.progress:
                self.progress(int(value))
            elif kind == "done":
                return int(value)
            elif kind == "error":
                raise RenderingFailed(str(value))
        return -1

    def _receive(self) -> tuple[str, Any]:
        message: tuple[str, Any] = self.reports.recv()
        return message

"""Document files: what may be uploaded, and where files are kept.

Files live in the private "documents" storage (settings.STORAGES), under random names,
never under a served URL: they are read only through the record views, which check access
and journal the read. An upload's type is decided from its content, never from its name
or the browser's claim.
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage, storages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, Http404, HttpRequest
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:
    from esante.records.models import Document

ALLOWED_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


class UploadRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def storage() -> Storage:
    return storages["documents"]


def max_bytes() -> int:
    return int(settings.ESANTE_UPLOAD_MAX_BYTES)


def max_pixels() -> int:
    return int(settings.ESANTE_UPLOAD_MAX_PIXELS)


def sniff_content_type(upload: File[bytes]) -> str:
    """The type of an uploaded file, read from its content, or UploadRefused.

    PDF, JPEG and PNG are told by their signature; images are then opened and verified
    by Pillow, so a file that merely starts like an image is refused, and so is an image
    of more than ESANTE_UPLOAD_MAX_PIXELS pixels (a "decompression bomb": a small file
    that would take gigabytes once decoded, here or in the browser that shows it).
    """
    if upload.size is not None and upload.size > max_bytes():
        raise UploadRefused(too_large_message())
    if not upload.size:
        raise UploadRefused(str(_("Le fichier est vide.")))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = next((kind for magic, kind in MAGIC if head.startswith(magic)), None)
    if content_type is None:
        raise UploadRefused(wrong_type_message())
    if content_type.startswith("image/"):
        try:
            with Image.open(upload) as image:
                # The size is read from the header, before any pixel is decoded.
                width, height = image.size
                if width * height > max_pixels():
                    raise UploadRefused(too_many_pixels_message())
                image.verify()
                if Image.MIME.get(image.format or "") != content_type:
                    raise UploadRefused(wrong_type_message())
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            # Pillow's own limit (the warning is raised where warnings are errors); the
            # cap above is lower, so the warning alone never lets an image through.
            raise UploadRefused(too_many_pixels_message()) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise UploadRefused(wrong_type_message()) from error
        finally:
            upload.seek(0)
    return content_type


def wrong_type_message() -> str:
    return str(
        _("Ce fichier n'est ni un PDF, ni une image JPEG ou PNG : seuls ces formats sont acceptés.")
    )


def too_many_pixels_message() -> str:
    megapixels = round(max_pixels() / 1_000_000, 1)
    shown = int(megapixels) if megapixels == int(megapixels) else megapixels
    return ngettext(
        "L'image est trop grande : %(megapixels)s mégapixel au plus (largeur × hauteur). "
        "Réduisez-la avant de l'ajouter.",
        "L'image est trop grande : %(megapixels)s mégapixels au plus (largeur × hauteur). "
        "Réduisez-la avant de l'ajouter.",
        int(megapixels),
    ) % {"megapixels": number_format(shown)}


def too_large_message() -> str:
    return str(_("Le fichier dépasse la taille maximale de %(size)s Mo.")) % {
        "size": f"{max_bytes() / (1024 * 1024):.0f}"
    }


def download_name(title: str, extension: str) -> str:
    """The file name a document is shown or saved under: its whole title. A "/" or "\\"
    would make the browser keep only what follows it, and a control or format character
    (a line break, a right-to-left override that disguises ".exe") would break or fake the
    name: each becomes "-". Non-ASCII letters stay (Django sends them as RFC 6266
    `filename*=utf-8''…`)."""
    cleaned = "".join(
        "-" if char in "/\\" or unicodedata.category(char).startswith("C") else char
        for char in title
    ).strip(" .")
    return f"{cleaned or 'document'}.{extension}"


def file_response(document: Document, *, download: bool) -> FileResponse:
    """The document's stored file, shown in the browser or downloaded (`download`), with
    headers that keep a browser from running it; 404 when the file is missing. The caller
    has opened the document through the gate and journals the read."""
    try:
        handle = storage().open(document.stored_name, "rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(
        handle,
        content_type=document.content_type,
        as_attachment=download,
        filename=download_name(document.title, document.extension),
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # A file is data, never a page: no script, no plugin, even if it were crafted as one.
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    if document.content_type == "application/pdf" and not download:
        # Chromium's PDF viewer does not run in a sandboxed page: PDFs keep the page policy.
        del response["Content-Security-Policy"]
    return response


def save_file(record_public_id: uuid.UUID, upload: File[bytes]) -> str:
    """Store the file under a random name; returns its name in the storage."""
    name = f"{record_public_id.hex[:2]}/{uuid.uuid4().hex}"
    return storage().save(name, upload)


class SizeLimit(FileUploadHandler):
    """An upload handler placed first: a file over the limit is dropped as it arrives
    (never written to disk), while the form's other fields are still read."""

    def __init__(self, request: HttpRequest, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_large = False

    def new_file(self, *args: object, **kwargs: object) -> None:
        super().new_file(*args, **kwargs)  # type: ignore[arg-type]
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

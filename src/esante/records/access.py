"""Who may open a record: every record URL goes through `open_record`.

For now only the holder; the assistants (DSP issue) are added here, in one place. A record
the visitor may not open answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

import uuid

from django.http import Http404

from esante.records.models import Capacity, CareRecord
from esante.registry.models import InsuredPerson


def open_record(visitor: InsuredPerson, public_id: uuid.UUID) -> tuple[CareRecord, Capacity]:
    record = CareRecord.objects.select_related("person").filter(public_id=public_id).first()
    if record is None or record.person_id != visitor.pk:
        raise Http404
    return record, Capacity.OWNER

"""Background work for agreements (django-tasks; in-process by default)."""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django_tasks import task

from agreements.models import Agreement, Registration
from agreements.pdf import canonical_content, fingerprint, render_agreement_pdf

# What rendering reads, loaded in one query.
RELATED = [
    "school",
    "job_category",
    "student__record__ethnicity",
    "student__record__political_status",
    "student__record__college",
    "student__record__major",
    "student__record__education_level",
]
UNIT = {
    Agreement: [
        "employer__nature",
        "employer__industry",
        "employer__region",
        "invitation__sent_by",
    ],
    Registration: ["unit_nature", "unit_industry", "unit_region"],
}


def store_pdf(model: type[Agreement] | type[Registration], pk: int) -> bool:
    """Render, sign and store the document's PDF unless the stored one is current.

    Safe to run twice or concurrently: the file is written first and recorded
    only afterwards, under a row lock, so an interrupted run leaves nothing
    recorded and a duplicate run finds the work done. Returns True if it wrote.
    """
    doc = model.objects.select_related(*RELATED, *UNIT[model]).get(pk=pk)
    if isinstance(doc, Agreement) and not doc.number:
        return False
    if doc.pdf and doc.content_sha256 == fingerprint(canonical_content(doc)):
        return False
    data, content_hash = render_agreement_pdf(doc)
    storage = model._meta.get_field("pdf").storage
    stem = doc.number or f"offline-{doc.pk}"
    name = storage.save(f"agreements/{stem}-{content_hash[:12]}.pdf", ContentFile(data))
    with transaction.atomic():
        current = model.objects.select_for_update(of=("self",)).get(pk=pk)
        if current.pdf and current.content_sha256 == content_hash:
            storage.delete(name)  # another run finished first
            return False
        previous = current.pdf.name
        current.pdf.name = name
        current.pdf_sha256 = hashlib.sha256(data).hexdigest()
        current.content_sha256 = content_hash
        current.save(update_fields=["pdf", "pdf_sha256", "content_sha256"])
    if previous:
        transaction.on_commit(lambda: storage.delete(previous))
    return True


@task()
def render_agreement(agreement_id: int) -> None:
    store_pdf(Agreement, agreement_id)


@task()
def render_registration(registration_id: int) -> None:
    """The offline e-agreement: for stamping, then again with its number once signed."""
    store_pdf(Registration, registration_id)


@task()
def send_invitation_batch(batch_id: int) -> None:
    """Send a batch's valid rows (agreements/batches/services.py ``batch_run``)."""
    from agreements.batches.services import batch_run

    batch_run(batch_id)

"""Background work for agreements (django-tasks; in-process by default)."""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django_tasks import task

from agreements.models import Agreement
from agreements.pdf import canonical_content, fingerprint, render_agreement_pdf


def store_agreement_pdf(agreement_id: int) -> bool:
    """Render, sign and store the agreement's PDF unless the stored one is current.

    Safe to run twice or concurrently: the file is written first and recorded
    only afterwards, under a row lock, so an interrupted run leaves nothing
    recorded and a duplicate run finds the work done. Returns True if it wrote.
    """
    agreement = Agreement.objects.select_related(
        "employer__nature",
        "employer__industry",
        "employer__region",
        "school",
        "job_category",
        "student__record__ethnicity",
        "student__record__political_status",
        "student__record__college",
        "student__record__major",
        "student__record__education_level",
    ).get(pk=agreement_id)
    if not agreement.number:
        return False
    if agreement.pdf and agreement.content_sha256 == fingerprint(canonical_content(agreement)):
        return False
    data, content_hash = render_agreement_pdf(agreement)
    storage = Agreement._meta.get_field("pdf").storage
    name = storage.save(f"agreements/{agreement.number}-{content_hash[:12]}.pdf", ContentFile(data))
    with transaction.atomic():
        current = Agreement.objects.select_for_update().get(pk=agreement_id)
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
    store_agreement_pdf(agreement_id)

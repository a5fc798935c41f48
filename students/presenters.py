"""Turn a registry request's stored codes back into labelled, readable values."""

from django.utils.translation import gettext_lazy as _

from destreg.reference.models import Code, CodeTable, College, Major, Region
from students.models import Gender, RegistryRecord, RegistryRequest

_CODE_FIELDS = {
    "ethnicity": CodeTable.ETHNICITY,
    "political_status": CodeTable.POLITICAL_STATUS,
    "education_level": CodeTable.EDUCATION_LEVEL,
    "study_mode": CodeTable.STUDY_MODE,
    "urban_rural": CodeTable.URBAN_RURAL,
}
LABELS = {
    "student_no": _("Student number (学号)"),
    "gender": _("Gender"),
    "ethnicity": _("Ethnicity"),
    "political_status": _("Political status"),
    "college": _("College"),
    "major": _("Major"),
    "education_level": _("Education level"),
    "study_mode": _("Training mode"),
    "enrolment_date": _("Enrolment date"),
    "graduation_date": _("Graduation date"),
    "origin_region": _("Place of origin (生源地)"),
    "urban_rural": _("Urban or rural origin"),
}


def _display(name: str, value) -> str:
    if value in (None, ""):
        return "—"
    if name in _CODE_FIELDS:
        code = Code.objects.filter(table=_CODE_FIELDS[name], code=value).first()
        return f"{code.name} ({value})" if code else str(value)
    if name == "origin_region":
        region = Region.objects.filter(code=value).first()
        return f"{region.full_name} ({value})" if region else str(value)
    if name == "college":
        return str(College.objects.filter(pk=value).first() or value)
    if name == "major":
        return str(Major.objects.filter(pk=value).first() or value)
    if name == "gender":
        return str(Gender(value).label)
    return str(value)


def describe_request_data(request: RegistryRequest) -> list[tuple[str, str, str]]:
    """(label, current value, requested value) rows; current is empty for imports."""
    record: RegistryRecord | None = None
    if request.kind == RegistryRequest.Kind.UPDATE:
        record = request.student.record
    rows = []
    for name, value in request.data.items():
        current = ""
        if name in request.previous:
            current = _display(name, request.previous[name])
        elif record is not None:
            stored = getattr(record, name)
            current = _display(name, getattr(stored, "code", stored))
        rows.append((str(LABELS.get(name, name)), current, _display(name, value)))
    return rows

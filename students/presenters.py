"""Turn a registry request's stored codes back into labelled, readable values."""

from django.utils.text import capfirst

from destreg.reference.models import Code, College, Major, Region
from students.models import CODE_FIELDS, Gender, RegistryRecord, RegistryRequest


def _display(name: str, value) -> str:
    if value in (None, ""):
        return "—"
    if name in CODE_FIELDS:
        code = Code.objects.filter(table=CODE_FIELDS[name], code=value).first()
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
        field = RegistryRecord._meta.get_field(name)
        label = capfirst(getattr(field, "verbose_name", name))
        rows.append((str(label), current, _display(name, value)))
    return rows

"""Load the code tables from ``data/*.csv`` and regions from python-stdnum.

Both loaders upsert, so running them again after the files change updates
names without breaking the foreign keys that point at existing codes.
"""

import csv
import re
from pathlib import Path

from django.db import transaction
from stdnum import numdb

from destreg.reference.models import Code, CodeTable, Region

DATA_DIR = Path(__file__).resolve().parent / "data"

# stdnum marks historical names with their years: "[1983-2013]白下区" ended in
# 2013, "[2013-]溧水区" is current, a name without brackets was never renamed.
_YEARS = re.compile(r"^\[(\d{4})?-(\d{4})?\]")


@transaction.atomic
def load_codes(
    data_dir: Path = DATA_DIR, *, code_model=Code, tables: tuple[str, ...] | None = None
) -> int:
    """Upsert every code table, or only ``tables``; ``code_model`` lets a migration pass its
    historical model.

    A file's ``name_en`` column (English names) is loaded once the model has the field
    (migration 0004); migrations before it pass a model without it."""
    has_english = any(field.name == "name_en" for field in code_model._meta.get_fields())
    count = 0
    for table in CodeTable:
        if tables is not None and table.value not in tables:
            continue
        path = data_dir / f"{table.value}.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        by_code: dict[str, Code] = {}
        for order, row in enumerate(rows):
            parent = by_code.get(row["parent"]) if row.get("parent") else None
            defaults = {"name": row["name"], "parent": parent, "sort_order": order}
            if has_english:
                defaults["name_en"] = row.get("name_en") or ""
            code, _created = code_model.objects.update_or_create(
                table=table.value, code=row["code"], defaults=defaults
            )
            by_code[code.code] = code
            count += 1
    return count


def _current_name(raw: str) -> str | None:
    """The name in force today, or None if the region was abolished.

    ``raw`` may list successive names: "[1983-1989]罗湖区办事处,[1990-]罗湖区".
    """
    for part in raw.split(","):
        match = _YEARS.match(part)
        if match is None:
            return part
        if not match.group(2):
            return part[match.end() :]
    return None


def iter_regions():
    """Yield (code, name, level, parent_code) for every current region, parents first."""
    for _length, province_code, _high, props, children in numdb.get("cn/loc").prefixes:
        province_name = props["province"]
        yield f"{province_code}0000", province_name, Region.Level.PROVINCE, None
        entries = []
        for _l, suffix, _h, child_props, _children in children:
            name = _current_name(child_props.get("county", ""))
            if name and suffix != "0000":
                entries.append((f"{province_code}{suffix}", name))
        cities = {code for code, _name in entries if code.endswith("00")}
        for code, name in sorted(entries, key=lambda e: (not e[0].endswith("00"), e[0])):
            if code.endswith("00"):
                yield code, name, Region.Level.CITY, f"{province_code}0000"
            else:
                city = code[:4] + "00"
                parent = city if city in cities else f"{province_code}0000"
                yield code, name, Region.Level.COUNTY, parent


@transaction.atomic
def load_regions(*, region_model=Region) -> int:
    existing = set(region_model.objects.values_list("code", flat=True))
    names: dict[str, str] = {}
    to_create: list[Region] = []
    to_update: list[Region] = []
    for code, name, level, parent in iter_regions():
        parent_full = names.get(parent, "") if parent else ""
        # "市辖区" (city districts) adds nothing a person would write.
        full = parent_full if name == "市辖区" else parent_full + name
        names[code] = full
        region = region_model(code=code, name=name, full_name=full, level=level, parent_id=parent)
        (to_update if code in existing else to_create).append(region)
    region_model.objects.bulk_create(to_create, batch_size=1000)
    region_model.objects.bulk_update(
        to_update, ["name", "full_name", "level", "parent"], batch_size=1000
    )
    return len(to_create) + len(to_update)


def english_names(data_dir: Path = DATA_DIR) -> dict[tuple[str, str], str]:
    """(table, code) → English name, for every row of the data files that has one."""
    names = {}
    for table in CodeTable:
        with (data_dir / f"{table.value}.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("name_en"):
                    names[(table.value, row["code"])] = row["name_en"]
    return names

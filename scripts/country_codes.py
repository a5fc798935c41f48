"""Write destreg/reference/data/country.csv from Debian's iso-codes package.

ISO 3166-1 numeric codes (the same numbers as GB/T 2659) with the English short name and the
zh_CN translation iso-codes ships (``/usr/share/iso-codes/json/iso_3166-1.json`` and
``/usr/share/locale/zh_CN/LC_MESSAGES/iso_3166-1.mo``). Where iso-codes gives a common
name (Taiwan, South Korea, Iran …) its translation is used. China itself (156) is left out:
the table lists where a graduate goes abroad (出国出境), and 香港, 澳门, 台湾 stay in it.

Run again after an iso-codes update: ``python3 scripts/country_codes.py``.
"""

import csv
import gettext
import json
import sys
from pathlib import Path

ISO_CODES = Path("/usr/share/iso-codes/json/iso_3166-1.json")
OUT = Path(__file__).resolve().parent.parent / "destreg/reference/data/country.csv"


def main() -> None:
    chinese = gettext.translation("iso_3166-1", "/usr/share/locale", ["zh_CN"])
    entries = json.loads(ISO_CODES.read_text(encoding="utf-8"))["3166-1"]
    rows = []
    for entry in entries:
        if entry["numeric"] == "156":
            continue
        english = entry.get("common_name") or entry["name"]
        name = chinese.gettext(english)
        if name == english:
            sys.exit(f"no Chinese name for {english}")
        rows.append((entry["numeric"], name, english))
    rows.sort(key=lambda row: row[2].casefold())  # the order of the picker: by English name
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "name_en", "parent"])
        writer.writerows([*row, ""] for row in rows)


if __name__ == "__main__":
    main()

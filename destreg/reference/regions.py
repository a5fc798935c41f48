"""The region tree the region picker (``static/js/region-picker.js``) reads.

One JSON document holds every region as ``[code, name, parent code]``: about 3,500 rows,
some 30 KB compressed. One download beats a request per level: the browser keeps it for good
(its address carries the content's version), choosing a province or a city waits for
nothing, and a saved value's three levels show at once. Each process builds it once per
``REFERENCE_CACHE_SECONDS`` and forgets it when a region is saved or deleted there.

Regions have Chinese names only (see ``data/SOURCES.md``), so the document is the same in
both languages.
"""

import hashlib
import json
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from destreg.reference.models import Region


@dataclass(frozen=True)
class RegionTree:
    body: bytes
    version: str  # a digest of ``body``: the ETag and the ``v`` of the picker's address
    expires: float


_tree: RegionTree | None = None
_lock = threading.Lock()


def region_tree() -> RegionTree:
    global _tree
    tree = _tree
    now = time.monotonic()
    if tree is not None and tree.expires > now:
        return tree
    rows = list(Region.objects.order_by("code").values_list("code", "name", "parent_id"))
    body = json.dumps({"regions": rows}, ensure_ascii=False, separators=(",", ":")).encode()
    tree = RegionTree(
        body=body,
        version=hashlib.sha256(body).hexdigest()[:20],
        expires=now + settings.REFERENCE_CACHE_SECONDS,
    )
    with _lock:
        _tree = tree
    return tree


def forget_tree() -> None:
    global _tree
    with _lock:
        _tree = None

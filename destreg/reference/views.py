from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import quote_etag
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from destreg.reference.regions import region_tree

# The picker asks for ``?v=<version>``: that address never changes its content.
A_YEAR = 365 * 24 * 3600


@require_safe
@gzip_page  # public data, nothing secret or reflected in it: no BREACH concern
def regions_json(request: HttpRequest) -> HttpResponse:
    """Every region as ``{"regions": [[code, name, parent code], …]}``; public (employers
    register before they have an account).

    With the current version in ``v`` the answer is cached for a year; otherwise (no ``v``,
    or a version another process has already replaced) the browser revalidates it each
    time with its ETag."""
    tree = region_tree()
    etag = quote_etag(tree.version)
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        tree.body, content_type="application/json"
    )
    response["ETag"] = etag
    if request.GET.get("v") == tree.version:
        patch_cache_control(response, public=True, max_age=A_YEAR, immutable=True)
    else:
        patch_cache_control(response, public=True, no_cache=True)
    return response

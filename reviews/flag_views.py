"""The 核查 page: red flags of the reviewer's school or college, their graduates, and the
notes that mark a flag explained (reviews/flags.py computes them)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.lib.actions import attempt
from destreg.lib.permissions import require
from destreg.lib.replica import reads_from_replica
from reviews import flags, verification
from reviews.forms import ExplainFlagForm
from reviews.services import flag_explain
from students.coercion import open_reports

staff_required = role_required(Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER)


@staff_required
@require_GET
def page(request):
    require(flags.can_verify(request.user))
    result = flags.cached(flags.scope_of(request.user), refresh=bool(request.GET.get("refresh")))
    return render(
        request,
        "reviews/verification.html",
        {
            "result": result,
            "settings": result.settings,
            "form": ExplainFlagForm(),
            # The graduates' 这不是我本人的意愿 reports still open, and 就业核查's own pages.
            "open_reports": open_reports(request.user).count(),
            "open_tasks": verification.tasks_of(request.user).filter(checked_at=None).count(),
        },
    )


@staff_required
@require_GET
def graduates(request):
    """The graduates behind one flag, in the viewer's scope only."""
    require(flags.can_verify(request.user))
    key = request.GET.get("flag", "")
    parsed = flags.parse_key(key)
    if parsed is None:
        raise Http404
    scope = flags.scope_of(request.user)
    flag = next((f for f in flags.cached(scope).flags if f.key == key), None)
    records = (
        flags.graduates(scope, key)
        .select_related("student__user")
        .for_display()
        .order_by("college_id", "student_no")
    )
    with reads_from_replica():  # the same aggregates as the flags themselves
        rows = list(records[: flags.DRILL_DOWN_LIMIT + 1])
    return render(
        request,
        "reviews/verification_graduates.html",
        {
            "kind": parsed[0],
            "flag": flag,
            "subject": parsed[1],
            "rows": rows[: flags.DRILL_DOWN_LIMIT],
            "more": len(rows) > flags.DRILL_DOWN_LIMIT,
            "limit": flags.DRILL_DOWN_LIMIT,
        },
    )


@staff_required
@require_POST
def explain(request):
    form = ExplainFlagForm(request.POST)
    if form.is_valid():
        attempt(
            lambda: flag_explain(
                user=request.user,
                key=form.cleaned_data["key"],
                comment=form.cleaned_data["comment"],
            ),
            request=request,
        )
    else:
        require(flags.can_verify(request.user))
        messages.error(request, _("Say why the flag is explained (at most 1,000 characters)."))
    return redirect(reverse("reviews:verification") + "#flags")

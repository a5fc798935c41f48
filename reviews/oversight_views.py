"""The oversight pages of provincial and Ministry staff (reviews/oversight.py): read-only,
drilling down province → school → college → major."""

from dataclasses import replace

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.lib.permissions import load_for
from destreg.lib.replica import reads_from_replica
from destreg.reference.models import College, Region, School
from reviews import flags, oversight
from reviews.stats import present

overseer_required = role_required(Role.PROVINCE_STAFF, Role.MINISTRY_STAFF)
# The ministry's row of schools whose province is not set yet (its page is theirs alone).
UNASSIGNED = "unassigned"


def _rows(keyed: list[oversight.Keyed], url_name: str, waiting: dict | None = None) -> list:
    """(rate linked to its own page, its waiting work) per row; a None key is the ministry's
    row of schools with no province."""
    return [
        (
            replace(rate, link=reverse(url_name, args=[UNASSIGNED if key is None else key])),
            (waiting or {}).get(key, oversight.Waiting()),
        )
        for key, rate in keyed
    ]


def _shown(found: oversight.Figures, by_major: list | None = None) -> dict:
    """The overall rate and the breakdowns (and a college's majors), labelled in the
    reader's language."""
    shown = present({**found.breakdowns, "by_major": by_major or [], "pending": [], "progress": []})
    return {
        "overall": found.overall,
        **{key: shown[key] for key in found.breakdowns},
        **({"majors": shown["by_major"]} if by_major is not None else {}),
    }


def _figures(schools, rows: oversight.Rows, url_name: str) -> dict:
    """A country or province page: one row per province or school with its waiting work and
    link, the overall rate and the breakdowns."""
    found = oversight.figures(oversight.graduates_of(schools, by_major=False), rows)
    waiting = oversight.waiting_by(schools, rows[0])
    return {"rows": _rows(found.rows, url_name, waiting), **_shown(found)}


def _flag_counts(found: flags.Flags) -> dict:
    """Per kind of flag: its label, how many are raised and how many not yet explained."""
    return {
        "computed_at": found.computed_at,
        "rows": [
            (kind.label, len(raised), sum(1 for flag in raised if flag.explanation is None))
            for kind, raised in found.sections
        ],
    }


@overseer_required
@reads_from_replica()  # read-only dashboards (destreg/lib/replica.py)
def home(request):
    """The Ministry's country page (by province); provincial staff go to their province."""
    if request.user.role == Role.PROVINCE_STAFF:
        return redirect("reviews:oversight_province", code=request.user.province_id)
    context = _figures(
        oversight.schools_overseen_by(request.user),
        oversight.PROVINCES,
        "reviews:oversight_province",
    )
    return render(request, "reviews/oversight/country.html", context)


@overseer_required
@reads_from_replica()  # read-only dashboards (destreg/lib/replica.py)
def province(request, code: str):
    if code == UNASSIGNED:
        if request.user.role != Role.MINISTRY_STAFF:
            raise Http404
        region = None
        schools = School.objects.filter(province=None)
    else:
        region = load_for(
            request.user,
            Region.objects.filter(level=Region.Level.PROVINCE),
            code,
            oversight.can_oversee_province,
        )
        schools = oversight.schools_overseen_by(request.user).filter(province=region)
    context = _figures(schools, oversight.SCHOOLS, "reviews:oversight_school")
    return render(request, "reviews/oversight/province.html", {"region": region, **context})


@overseer_required
@reads_from_replica()  # read-only dashboards (destreg/lib/replica.py)
def school(request, pk: int):
    school = load_for(
        request.user, School.objects.select_related("province"), pk, oversight.can_oversee_school
    )
    found = oversight.figures(
        oversight.graduates_of(School.objects.filter(pk=school.pk)), oversight.COLLEGES
    )
    context = {
        "school": school,
        "rows": _rows(found.rows, "reviews:oversight_college"),
        "waiting": oversight.waiting_by(School.objects.filter(pk=school.pk), "school_id").get(
            school.pk, oversight.Waiting()
        ),
        "oldest": oversight.oldest_items(school),
        # The school's 核查 flags as its own staff see them (cached per school: seconds to
        # compute on a large school, so only here, one school at a time).
        "flags": _flag_counts(flags.cached(flags.Scope(school.pk))),
        **_shown(found),
    }
    return render(request, "reviews/oversight/school.html", context)


@overseer_required
@reads_from_replica()  # read-only dashboards (destreg/lib/replica.py)
def college(request, pk: int):
    college = load_for(
        request.user,
        College.objects.select_related("school__province"),
        pk,
        oversight.can_oversee_college,
    )
    tallies = oversight.graduates_of(School.objects.filter(pk=college.school_id)).filter(
        college=college
    )
    context = {
        "college": college,
        "school": college.school,
        "oldest": oversight.oldest_items(college.school, college),
        **_shown(oversight.figures(tallies, oversight.COLLEGES), oversight.majors(tallies)),
    }
    return render(request, "reviews/oversight/college.html", context)

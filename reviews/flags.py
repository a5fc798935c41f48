"""The 核查 page's red flags: figures that deserve a second look, each saying why it fired.

Every flag is computed by a few aggregate queries over the viewer's scope (a school, or one
college of it), never by a loop over graduates, so the page stays quick at 100,000 graduates
(benchmarks/flags.py). The thresholds are the school's ``VerificationSettings``
(reviews/models.py; defaults when it has none).

A flag's ``key`` is its type and subject (``unit:91110000100000000R``, ``proof:<sha256>``),
the same whenever it is recomputed; ``FlagExplanation`` rows attach staff notes to it.
This year's graduates are the current graduation year's registry records; a unit, a contact
or a proof counts through the destinations registered for them that are under review or
approved (online agreements and the other paths' registrations).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from typing import Any, cast

from django.core.cache import cache
from django.db import connection, models
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When, Window
from django.db.models.functions import Concat, Lag, Lower, Replace, Upper
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from agreements.models import Agreement, Registration
from destreg.accounts.models import User
from destreg.audit.models import AuditAction, AuditEvent
from destreg.lib.params import parse_id
from destreg.lib.permissions import ALLOW, Decision, deny
from destreg.lib.replica import reads_from_replica
from destreg.reference.models import Code, CodeTable, College
from reviews.models import FlagExplanation, VerificationSettings
from students.models import RegistryRecord, RegistryRecordQuerySet, current_graduation_year

# The destinations whose share is watched: 其他录用 (12), 自主创业 (75), 自由职业 (76).
WATCHED_CODES = ("12", "75", "76")
APPROVALS = (
    AuditAction.APPROVE,
    AuditAction.COLLEGE_APPROVE,
    AuditAction.SCHOOL_APPROVE,
    AuditAction.INFO_APPROVE,
)
# Registrations that no longer stand for a destination, or never did.
ENDED_REGISTRATION = (
    Registration.Status.DRAFT,
    Registration.Status.WITHDRAWN,
    Registration.Status.REJECTED,
    Registration.Status.VOIDED,
    Registration.Status.TERMINATED,
)
DRILL_DOWN_LIMIT = 200


class Kind(models.TextChoices):
    SHARE = "share", gettext_lazy("Destination share")
    UNIT = "unit", gettext_lazy("Many graduates at one unit")
    MAILBOX = "mailbox", gettext_lazy("Public mailbox and no landline")
    CONTACT = "contact", gettext_lazy("Contact shared by several units")
    PROOF = "proof", gettext_lazy("Proof file used for several graduates")
    FAST = "fast", gettext_lazy("Approvals too fast")


@dataclass(frozen=True)
class Scope:
    """Whose flags: a school's (school staff) or one of its colleges' (college staff)."""

    school_id: int
    college_id: int | None = None

    def filter(self, queryset: QuerySet, prefix: str = "") -> QuerySet:
        queryset = queryset.filter(**{f"{prefix}school_id": self.school_id})
        if self.college_id is not None:
            queryset = queryset.filter(**{f"{prefix}college_id": self.college_id})
        return queryset


def can_verify(user) -> Decision:
    """School reviewers see their school's flags, college reviewers their college's."""
    if getattr(user, "is_school_reviewer", False) or getattr(user, "is_college_reviewer", False):
        return ALLOW
    return deny(_("Only school and college reviewers see the verification page."))


def scope_of(user) -> Scope:
    if user.is_college_reviewer:
        return Scope(user.school_id, user.college_id)
    return Scope(user.school_id)


@dataclass
class Flag:
    kind: Kind
    subject: str
    title: str
    count: int  # graduates concerned (fast approvals: how many)
    reason: str
    first_seen: bool = False
    explanation: FlagExplanation | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}"

    @property
    def kind_label(self) -> str:
        return str(self.kind.label)


@dataclass
class Flags:
    scope: Scope
    settings: VerificationSettings
    flags: list[Flag] = field(default_factory=list)
    computed_at: datetime = field(default_factory=timezone.now)

    def of(self, kind: Kind) -> list[Flag]:
        return [flag for flag in self.flags if flag.kind == kind]

    @property
    def sections(self) -> list[tuple[Kind, list[Flag]]]:
        return [(kind, self.of(kind)) for kind in Kind]

    @property
    def open_count(self) -> int:
        return sum(1 for flag in self.flags if flag.explanation is None)


# --- the pieces every unit query shares --------------------------------------------------


def _live_registrations(scope: Scope, year: int) -> QuerySet[Registration]:
    return (
        scope.filter(Registration.objects.all())
        .filter(student__record__graduation_year=year)
        .exclude(status__in=ENDED_REGISTRATION)
    )


def _live_agreements(scope: Scope, year: int) -> QuerySet[Agreement]:
    return scope.filter(Agreement.objects.all()).filter(
        student__record__graduation_year=year, status__in=Agreement.ACTIVE
    )


def _registration_unit() -> Case:
    """A registration's unit: its credit code, else its name (prefixed, so a name never
    equals a code)."""
    return Case(
        When(~Q(unit_uscc=""), then=Upper("unit_uscc")),
        When(~Q(org_uscc=""), then=Upper("org_uscc")),
        When(~Q(unit_name=""), then=Concat(Value("name:"), "unit_name")),
        When(~Q(org_name=""), then=Concat(Value("name:"), "org_name")),
        default=Value(""),
        output_field=CharField(),
    )


def _registration_label() -> Case:
    return Case(
        When(~Q(unit_name=""), then=F("unit_name")),
        default=F("org_name"),
        output_field=CharField(),
    )


def _phone(expression: Any) -> Replace:
    return Replace(Replace(expression, Value("-"), Value("")), Value(" "), Value(""))


def _base(scope: Scope, year: int, units: Sequence[str] = ()) -> tuple[str, list[Any]]:
    """SQL of the year's live destinations of the scope, one row each: the unit (its key and
    name), the student, the contacts (landline without dashes or spaces, mobile, e-mail in
    lower case) and the proofs' digests, from registrations and online agreements."""
    columns = ("unit", "label", "who", "phone", "mobile", "email", "digest", "digest2")
    registrations, agreements = _live_registrations(scope, year), _live_agreements(scope, year)
    if units:  # only these units: filtered on the stored columns, before any join
        codes = [key for key in units if not key.startswith("name:")]
        names = [key.removeprefix("name:") for key in units if key.startswith("name:")]
        registrations = registrations.filter(
            Q(unit_uscc__in=codes)
            | Q(org_uscc__in=codes)
            | Q(unit_name__in=names)
            | Q(org_name__in=names)
        )
        agreements = agreements.filter(employer__uscc__in=codes)
    registration_rows = (
        registrations.annotate(
            unit=_registration_unit(),
            label=_registration_label(),
            who=F("student_id"),
            phone=_phone(F("contact_phone")),
            mobile=F("contact_mobile"),
            email=Lower("contact_email"),
            digest=F("proof_sha256"),
            digest2=F("extra_proof_sha256"),
        )
        .values(*columns)
        .order_by()
    )
    agreement_rows = (
        agreements.annotate(
            unit=F("employer__uscc"),
            label=F("employer__name"),
            who=F("student_id"),
            phone=_phone(F("employer__contact_phone")),
            mobile=F("employer__contact_mobile"),
            email=Lower("employer__contact_email"),
            digest=Value("", output_field=CharField()),
            digest2=Value("", output_field=CharField()),
        )
        .values(*columns)
        .order_by()
    )
    sqls: list[str] = []
    params: list[Any] = []
    for n, part in enumerate((registration_rows, agreement_rows)):
        sql, part_params = part.query.sql_with_params()
        sqls.append(f"SELECT {', '.join(columns)} FROM ({sql}) part{n}")  # noqa: S608
        params.extend(part_params)
    return " UNION ALL ".join(sqls), params


def _query(
    scope: Scope, year: int, body: str, params: Sequence[Any], units: Sequence[str] = ()
) -> list[tuple]:
    """Run ``body`` (SQL reading the live destinations as ``base``) and return its rows.
    ``base`` is one CTE, so the joins behind it run once for every flag the body computes;
    every grouping is on plain columns (hash aggregates, no COUNT(DISTINCT) sort)."""
    base, base_params = _base(scope, year, units)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH base AS ({base}) {body}", [*base_params, *params])
        return list(cursor.fetchall())


# Rows: (kind, key, label, detail, units, graduates). A graduate counts once per unit.
UNIT_LEVEL = """
SELECT 'unit', unit, MAX(label), '', 1, COUNT(*) FROM (
    SELECT unit, who, MAX(label) AS label FROM base WHERE unit <> '' GROUP BY unit, who
) u GROUP BY unit HAVING COUNT(*) >= %s
UNION ALL
SELECT 'mailbox', unit, MAX(label), MAX(email), 1, COUNT(*) FROM (
    SELECT unit, who, MAX(label) AS label, MAX(email) AS email FROM base
    WHERE unit <> '' AND phone = '' AND ({public}) GROUP BY unit, who
) m GROUP BY unit
UNION ALL
SELECT 'contact', k, MIN(label), MAX(label), COUNT(*), SUM(n) FROM (
    SELECT k, unit, MAX(label) AS label, COUNT(*) AS n FROM (
        SELECT 'phone:' || phone AS k, unit, label FROM base WHERE phone <> ''
        UNION ALL SELECT 'phone:' || mobile, unit, label FROM base WHERE mobile <> ''
        UNION ALL SELECT 'email:' || email, unit, label FROM base WHERE email <> ''
    ) c WHERE unit <> '' GROUP BY k, unit
) cu GROUP BY k HAVING COUNT(*) >= %s
UNION ALL
SELECT 'proof', d, '', '', 1, COUNT(*) FROM (
    SELECT d, who FROM (
        SELECT digest AS d, who FROM base UNION ALL SELECT digest2, who FROM base
    ) p WHERE d <> '' GROUP BY d, who
) pw GROUP BY d HAVING COUNT(*) >= %s
"""


def share_flags(scope: Scope, settings: VerificationSettings, year: int) -> list[Flag]:
    """自由职业, 自主创业, 其他录用 above the share, or far above the college's last year."""
    records = scope.filter(RegistryRecord.objects.filter(graduation_year__in=[year, year - 1]))
    totals = {
        (row["graduation_year"], row["college_id"]): row["n"]
        for row in records.values("graduation_year", "college_id").annotate(n=Count("id"))
    }
    watched = (
        records.filter(destination__code__in=WATCHED_CODES)
        .values("graduation_year", "college_id", "destination__code")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {
        (row["graduation_year"], row["college_id"], row["destination__code"]): row["n"]
        for row in watched
    }
    colleges = dict(
        College.objects.filter(pk__in={college for _year, college in totals}).values_list(
            "pk", "name"
        )
    )
    names = {
        code.code: str(code)
        for code in Code.objects.filter(table=CodeTable.DESTINATION, code__in=WATCHED_CODES)
    }
    flags = []
    for (class_of, college_id, code), n in sorted(counts.items(), key=lambda item: item[0][1:]):
        if class_of != year:
            continue
        total = totals[(year, college_id)]
        share = 100 * n / total
        last_total = totals.get((year - 1, college_id), 0)
        last = (
            100 * counts.get((year - 1, college_id, code), 0) / last_total if last_total else None
        )
        reasons = []
        if share > settings.share_percent:
            reasons.append(
                _("%(share).1f%% of the college's graduates, above %(limit)s%%.")
                % {"share": share, "limit": settings.share_percent}
            )
        if last is not None and share - last > settings.share_growth_points:
            reasons.append(
                _("%(share).1f%% against %(last).1f%% last year: up more than %(points)s points.")
                % {"share": share, "last": last, "points": settings.share_growth_points}
            )
        if reasons:
            flags.append(
                Flag(
                    Kind.SHARE,
                    f"{college_id}:{code}",
                    f"{colleges.get(college_id, '')} · {names.get(code, code)}",
                    n,
                    " ".join(reasons),
                )
            )
    return flags


def unit_level_flags(scope: Scope, settings: VerificationSettings, year: int) -> list[Flag]:
    """Units with many graduates, public mailboxes, shared contacts and shared proof files,
    in one statement over the year's live destinations."""
    domains = settings.mail_domains
    public = " OR ".join(["email LIKE %s"] * len(domains)) or "1 = 0"
    rows = _query(
        scope,
        year,
        UNIT_LEVEL.format(public=public),
        [
            settings.unit_graduates,
            *(f"%@{domain}" for domain in domains),
            settings.shared_contact_units,
            settings.proof_graduates,
        ],
    )
    by_kind: dict[str, list[tuple]] = {}
    for kind, key, label, detail, units, n in rows:
        by_kind.setdefault(kind, []).append((key, label, detail, int(units), int(n)))
    return [
        *_unit_flags(scope, settings, year, by_kind.get("unit", [])),
        *(
            Flag(
                Kind.MAILBOX,
                key,
                label,
                n,
                _("Contact e-mail %(email)s is a public mailbox and no landline is given.")
                % {"email": email},
            )
            for key, label, email, _units, n in sorted(by_kind.get("mailbox", []))
        ),
        *_contact_flags(by_kind.get("contact", [])),
        *(
            Flag(
                Kind.PROOF,
                key,
                key[:12],
                n,
                _("The same file (SHA-256 %(digest)s…) is the proof of %(n)s graduates.")
                % {"digest": key[:12], "n": n},
            )
            for key, _label, _detail, _units, n in sorted(
                by_kind.get("proof", []), key=lambda row: (-row[4], row[0])
            )
        ),
    ]


def _unit_flags(scope, settings, year, rows) -> list[Flag]:
    """Many of this year's graduates at one unit; above all a unit first seen this year (no
    graduate of last year's class went there)."""
    if not rows:
        return []
    keys = [row[0] for row in rows]
    marks = ", ".join(["%s"] * len(keys))
    last_year = dict(
        _query(
            scope,
            year - 1,
            f"SELECT unit, COUNT(DISTINCT who) FROM base WHERE unit IN ({marks}) GROUP BY unit",  # noqa: S608
            keys,
            units=keys,
        )
    )
    flags = []
    for key, label, _detail, _units, n in rows:
        before = last_year.get(key, 0)
        if before:
            reason = _(
                "%(n)s of this year's graduates at this unit (limit %(limit)s); "
                "%(before)s last year."
            ) % {"n": n, "limit": settings.unit_graduates, "before": before}
        else:
            reason = _(
                "%(n)s of this year's graduates at this unit (limit %(limit)s); "
                "first seen this year: none of last year's graduates went there."
            ) % {"n": n, "limit": settings.unit_graduates}
        flags.append(Flag(Kind.UNIT, key, label, n, reason, first_seen=not before))
    flags.sort(key=lambda flag: (not flag.first_seen, -flag.count, flag.subject))
    return flags


def _contact_flags(rows) -> list[Flag]:
    """One contact phone or e-mail given by several different units."""
    flags = []
    for key, first, last, units, n in sorted(rows, key=lambda row: (-row[3], row[0])):
        what, value = key.split(":", 1)
        reason = (
            _("Phone %(value)s is given by %(units)s different units (%(first)s, %(last)s).")
            if what == "phone"
            else _("E-mail %(value)s is given by %(units)s different units (%(first)s, %(last)s).")
        ) % {"value": value, "units": units, "first": first, "last": last}
        flags.append(Flag(Kind.CONTACT, key, value, n, reason))
    return flags


def season_start(year: int) -> datetime:
    """The class of ``year``'s registration season opens on 1 September of the year before."""
    return timezone.make_aware(datetime.combine(date(year - 1, 9, 1), time.min))


def _scope_approvals(scope: Scope, year: int) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(
        action__in=APPROVALS,
        created_at__gte=season_start(year),
        actor__school_id=scope.school_id,
    )
    if scope.college_id is not None:
        events = events.filter(actor__college_id=scope.college_id)
    return events


def _fast_approvals(scope: Scope, settings: VerificationSettings, year: int) -> QuerySet:
    """Approvals made less than ``approval_seconds`` after the same reviewer's previous one."""
    windowed = _scope_approvals(scope, year).annotate(
        previous=Window(
            Lag("created_at"), partition_by=[F("actor_id")], order_by=[F("created_at"), F("id")]
        )
    )
    return windowed.filter(
        previous__gt=F("created_at") - timedelta(seconds=settings.approval_seconds)
    )


def fast_flags(scope: Scope, settings: VerificationSettings, year: int) -> list[Flag]:
    """Reviewers with many approvals made soon after their previous one, and their total."""
    windowed = (
        _scope_approvals(scope, year)
        .annotate(
            previous=Window(
                Lag("created_at"),
                partition_by=[F("actor_id")],
                order_by=[F("created_at"), F("id")],
            ),
            soonest=F("created_at") - timedelta(seconds=settings.approval_seconds),
        )
        .values("actor_id", "previous", "soonest")
        .order_by()
    )
    sql, params = windowed.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT actor_id, SUM(CASE WHEN previous > soonest THEN 1 ELSE 0 END), COUNT(*) "  # noqa: S608
            f"FROM ({sql}) w GROUP BY actor_id "
            "HAVING SUM(CASE WHEN previous > soonest THEN 1 ELSE 0 END) >= %s",
            [*params, settings.fast_approvals],
        )
        rows = [(actor, int(fast), int(total)) for actor, fast, total in cursor.fetchall()]
    names = {
        user.pk: user.display_name or user.username
        for user in User.objects.filter(pk__in=[row[0] for row in rows])
    }
    return [
        Flag(
            Kind.FAST,
            str(actor),
            names.get(actor, ""),
            fast,
            _(
                "%(n)s of %(total)s approvals this season came less than %(seconds)s seconds "
                "after the reviewer's previous one."
            )
            % {"n": fast, "total": total, "seconds": settings.approval_seconds},
        )
        for actor, fast, total in sorted(rows, key=lambda row: (-row[1], row[0]))
    ]


# Each computes flags of one or more kinds (the page orders them by kind).
COMPUTE = {
    "share": share_flags,
    "unit, mailbox, contact, proof": unit_level_flags,
    "fast": fast_flags,
}


def explanations(scope: Scope) -> dict[str, FlagExplanation]:
    rows = FlagExplanation.objects.filter(
        school_id=scope.school_id, college=scope.college_id
    ).select_related("explained_by")
    return {row.key: row for row in rows}


def compute(scope: Scope, *, year: int | None = None) -> Flags:
    """The scope's flags computed now, with their explanations."""
    return with_explanations(_computed(scope, year or current_graduation_year()))


def _computed(scope: Scope, year: int) -> Flags:
    settings = VerificationSettings.for_school(scope.school_id)
    result = Flags(scope, settings)
    for compute_kinds in COMPUTE.values():
        result.flags.extend(compute_kinds(scope, settings, year))
    return result


def with_explanations(result: Flags) -> Flags:
    """The flags with the explanations as they are now (never cached: a note shows at once)."""
    notes = explanations(result.scope)
    return replace(
        result, flags=[replace(flag, explanation=notes.get(flag.key)) for flag in result.flags]
    )


# On a large school the flags take seconds to compute (benchmarks/flags.py): they are
# kept per scope and language for CACHE_SECONDS. The page says when they were computed and
# recomputes on request; explanations are read fresh on every request. Nothing forgets them
# earlier: a flag is a prompt to look, and a few minutes' delay changes no decision.
CACHE_SECONDS = 300


REFRESH_SECONDS = 60


def cached(scope: Scope, *, refresh: bool = False) -> Flags:
    year = current_graduation_year()
    key = (
        f"reviews:verification:{scope.school_id}:{scope.college_id or 0}:{year}:"
        f"{get_language() or ''}"
    )
    # "Recompute now" is honoured at most once a minute per scope: it costs seconds on a
    # large school, and a link (or an image tag elsewhere) must not keep the database busy.
    if refresh and not cache.add(f"{key}:refreshed", True, REFRESH_SECONDS):
        refresh = False
    result = None if refresh else cache.get(key)
    if result is None:
        with reads_from_replica():  # aggregates over the school (destreg/lib/replica.py)
            result = _computed(scope, year)
        cache.set(key, result, CACHE_SECONDS)
    return with_explanations(result)


# --- drill-down: the graduates behind a flag ---------------------------------------------


def parse_key(key: str) -> tuple[Kind, str] | None:
    kind, _sep, subject = key.partition(":")
    if kind not in Kind.values or not subject or len(key) > 300:
        return None
    return Kind(kind), subject


def graduates(scope: Scope, key: str, *, year: int | None = None) -> RegistryRecordQuerySet:
    """This year's graduates of the scope a flag is about (empty for a malformed key)."""
    year = year or current_graduation_year()
    records = cast(
        RegistryRecordQuerySet,
        scope.filter(RegistryRecord.objects.filter(graduation_year=year)),
    )
    parsed = parse_key(key)
    if parsed is None:
        return records.none()
    kind, subject = parsed
    registrations = _live_registrations(scope, year)
    agreements = _live_agreements(scope, year)
    if kind == Kind.SHARE:
        college, _sep, code = subject.partition(":")
        college_id = parse_id(college)
        if college_id is None:
            return records.none()
        return records.filter(college_id=college_id, destination__code=code)
    if kind in (Kind.UNIT, Kind.MAILBOX):
        students = [
            registrations.annotate(k=_registration_unit()).filter(k=subject),
            agreements.filter(employer__uscc=subject),
        ]
    elif kind == Kind.CONTACT:
        what, _sep, value = subject.partition(":")
        if what == "phone":
            students = [
                registrations.filter(Q(contact_mobile=value))
                | registrations.annotate(p=_phone(F("contact_phone"))).filter(p=value),
                agreements.filter(employer__contact_mobile=value)
                | agreements.annotate(p=_phone(F("employer__contact_phone"))).filter(p=value),
            ]
        else:
            students = [
                registrations.filter(contact_email__iexact=value),
                agreements.filter(employer__contact_email__iexact=value),
            ]
    elif kind == Kind.PROOF:
        students = [registrations.filter(Q(proof_sha256=subject) | Q(extra_proof_sha256=subject))]
    else:
        return records.filter(pk__in=_fast_subjects(scope, subject, year))
    return records.filter(
        reduce(or_, (Q(student__pk__in=part.values("student_id")) for part in students))
    )


def _fast_subjects(scope: Scope, reviewer: str, year: int) -> list[int]:
    """The records of the items a reviewer approved too fast."""
    reviewer_id = parse_id(reviewer)
    if reviewer_id is None:
        return []
    settings = VerificationSettings.for_school(scope.school_id)
    events = (
        _fast_approvals(scope, settings, year)
        .filter(actor_id=reviewer_id)
        .values_list("content_type__model", "object_id")
    )
    by_model: dict[str, set[int]] = {}
    for model, object_id in events:
        by_model.setdefault(model, set()).add(object_id)
    record_ids: set[int] = set()
    for model in (Registration, Agreement):
        ids = by_model.get(model._meta.model_name or "", set())
        if ids:
            record_ids.update(
                model.objects.filter(pk__in=ids)
                .exclude(student__record=None)
                .values_list("student__record_id", flat=True)
            )
    return sorted(record_ids)

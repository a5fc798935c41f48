"""The audit log: one row per state change, written in the same transaction."""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection, models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    """What an audit row records; the label is what the timeline shows. The values are
    stored, so a member may be added but never renamed."""

    REGISTER = "register", _("Account created")
    CONFIRM_REGISTRY = "confirm_registry", _("Registry confirmed")
    UPDATE_CONTACT = "update_contact", _("Contact details changed")
    SUBMIT = "submit", _("Submitted")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    REGISTRY_UPDATE = "registry_update", _("Registry corrected")
    REGISTRY_IMPORT = "registry_import", _("Registry file imported")
    INVITE = "invite", _("Invitation sent")
    ACCEPT = "accept", _("Accepted")
    DECLINE = "decline", _("Declined")
    EXPIRE = "expire", _("Expired")
    COLLEGE_APPROVE = "college_approve", _("Approved by the college")
    SCHOOL_APPROVE = "school_approve", _("Approved by the school")
    FAIL = "fail", _("Not approved")
    TERMINATE = "terminate", _("Terminated")
    REQUEST_TERMINATION = "request_termination", _("Termination requested")
    AGREE_TERMINATION = "agree_termination", _("Termination agreed by the other party")
    REFUSE_TERMINATION = "refuse_termination", _("Termination refused by the other party")
    REQUEST_VOID = "request_void", _("Void requested")
    SEND_TERMINATION_LINK = "send_termination_link", _("Termination link e-mailed to the unit")
    VERIFY = "verify", _("Verified")
    UPLOAD_EVIDENCE = "upload_evidence", _("Verification documents uploaded")
    VOID = "void", _("Voided")
    WITHDRAW = "withdraw", _("Withdrawn")
    SAVE_DRAFT = "save_draft", _("Draft saved")
    RETURN = "return", _("Returned for changes")
    UPLOAD_SCAN = "upload_scan", _("Stamped agreement uploaded")
    SEND_RETURN_LINK = "send_return_link", _("Return link e-mailed to the unit")
    INFO_APPROVE = "info_approve", _("Agreement information approved")
    ENROL_SECOND_FACTOR = "enrol_second_factor", _("Second factor set up")
    RENEW_RECOVERY_CODES = "renew_recovery_codes", _("New recovery codes made")
    TURN_OFF_SECOND_FACTOR = "turn_off_second_factor", _("Second factor turned off")
    RESET_SECOND_FACTOR = "reset_second_factor", _("Second factor reset by an administrator")
    HELD_CHANGE_APPLY = "held_change_apply", _("Held registry change applied")
    HELD_CHANGE_DROP = "held_change_drop", _("Held registry change dropped")
    REGISTRY_RECONFIRM = (
        "registry_reconfirm",
        _("Registry name or ID number changed; to be confirmed again"),
    )
    SEND_CODE = "send_code", _("Confirmation code sent")
    ISSUE_ACTIVATION_CODE = "issue_activation_code", _("Activation code issued")
    WRONG_ACTIVATION_CODE = "wrong_activation_code", _("Wrong activation code entered")
    UNBIND = "unbind", _("Account unlinked from the registry record")
    REGISTRY_CONFLICT = "registry_conflict", _("Registry conflict opened between schools")
    RESOLVE_CONFLICT = "resolve_conflict", _("Registry conflict resolved")
    INVITE_COLLEAGUE = "invite_colleague", _("Colleague invited")
    REVOKE_COLLEAGUE_INVITATION = (
        "revoke_colleague_invitation",
        _("Colleague invitation withdrawn"),
    )
    JOIN_COLLEAGUE = "join_colleague", _("Colleague joined")
    CHANGE_COLLEAGUE_ROLE = "change_colleague_role", _("Colleague's role changed")
    REMOVE_COLLEAGUE = "remove_colleague", _("Colleague removed")
    CHANGE_UNIT_DETAILS = "change_unit_details", _("Unit details changed")
    RECORD_FROM_REQUEST = (
        "record_from_request",
        _("Registry record created from an approved request"),
    )
    CHANGE_SEAL = "change_seal", _("School seal changed")
    DRAW_SAMPLE = "draw_sample", _("Verification sample drawn")
    ASSIGN_VERIFIER = "assign_verifier", _("Verifier assigned")
    RECORD_CHECK = "record_check", _("Verification check recorded")
    FOUND_UNTRUE = (
        "found_untrue",
        _("Found not true by verification; returned to the graduate"),
    )
    REQUEST_ANNUAL_REPORT = "request_annual_report", _("Annual report requested")
    PURGE_EVIDENCE = "purge_evidence", _("Proof files removed after the retention period")
    TAKE_SNAPSHOT = "take_snapshot", _("Reporting snapshot taken")
    WEBHOOK_CREATE = "webhook_create", _("Webhook endpoint added")
    WEBHOOK_CHANGE = "webhook_change", _("Webhook endpoint changed")
    WEBHOOK_ROTATE_SECRET = "webhook_rotate_secret", _("Webhook secret rotated")
    WEBHOOK_DELETE = "webhook_delete", _("Webhook endpoint deleted")
    WEBHOOK_RESEND = "webhook_resend", _("Webhook delivery resent")
    SET_REPORTING_DATES = "set_reporting_dates", _("Reporting dates changed")
    REPORT_NOT_MY_WILL = "report_not_my_will", _("Reported as not the graduate's own wish")
    HANDLE_REPORT = "handle_report", _("Report handled")
    EXPLAIN_FLAG = "explain_flag", _("Red flag marked explained")
    UPLOAD_INVITATION_BATCH = "upload_invitation_batch", _("Batch of invitations uploaded")
    SEND_INVITATION_BATCH = "send_invitation_batch", _("Batch of invitations sent")
    SEND_UNIT_SIGNING_LINK = "send_unit_signing_link", _("Signing link e-mailed to the unit")
    UNIT_CONFIRM = "unit_confirm", _("Confirmed by the unit through its link")
    HAND_OVER_TO_UNIT = "hand_over_to_unit", _("Handed over to the unit's verified account")
    CREATE_API_TOKEN = "create_api_token", _("API key created")
    REVOKE_API_TOKEN = "revoke_api_token", _("API key revoked")
    CHANGE_USER_ACCESS = "change_user_access", _("User's access changed")
    CHANGE_USER_PASSWORD = "change_user_password", _("User's password set by an administrator")
    DELETE_USER = "delete_user", _("User deleted (an account without history)")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def for_object(self, obj: models.Model) -> "AuditEventQuerySet":
        content_type = ContentType.objects.get_for_model(obj)
        return self.filter(content_type=content_type, object_id=obj.pk)

    def timeline(self, obj: models.Model) -> "AuditEventQuerySet":
        """What a page's history shows (templates/includes/timeline.html): when, who by name,
        and what; a whole user row per event would cost more to read than the page."""
        return (
            self.for_object(obj)
            .select_related("actor")
            .only("created_at", "action", "comment", "actor__display_name", "actor__username")
        )

    def college_approver_id(self, obj: Any) -> int | None:
        """Who made the college decision that moved ``obj`` into its current status
        (the latest, so a resubmitted item counts only its last round)."""
        return (
            self.for_object(obj)
            .filter(action=AuditAction.COLLEGE_APPROVE, to_state=obj.status)
            .order_by("-created_at", "-id")
            .values_list("actor_id", flat=True)
            .first()
        )


class AuditEvent(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_role = models.CharField(_("role"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    from_state = models.CharField(_("from"), max_length=40, blank=True)
    to_state = models.CharField(_("to"), max_length=40, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "created_at"]),
            # A reviewer's approvals in order (the 核查 page's fast approvals).
            models.Index(fields=["actor", "created_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state} → {self.to_state}"

    @property
    def action_label(self) -> str:
        return self.get_action_display()


def translatable(value: Any) -> Any:
    """``value`` as a notification stores it: a lazy translation (or a ``gettext_noop``
    string passed as the message) becomes its untranslated source, so that it can be put
    into each reader's language; a lazy parameter is kept as ``{"msgid": source}``."""
    with translation.override(None):  # no catalogue: gettext returns the source itself
        return str(value)


def store_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A notice's parameters as JSON: lazy translations by their source (translated when
    shown), numbers as they are, everything else (names, numbers of agreements) as text."""
    stored: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Promise):
            stored[name] = {"msgid": translatable(value)}
        elif isinstance(value, bool | int | float) or value is None:
            stored[name] = value
        else:
            stored[name] = str(value)
    return stored


def render_message(message_id: str, params: Mapping[str, Any]) -> str:
    """Translate ``message_id`` into the active language and fill in ``params``."""
    text = gettext(message_id)
    if not params:
        return text
    values = {
        name: gettext(value["msgid"]) if isinstance(value, dict) and "msgid" in value else value
        for name, value in params.items()
    }
    for template in (text, message_id):  # a translation that lost a placeholder: the source
        try:
            return template % values
        except (KeyError, TypeError, ValueError):
            continue
    return message_id


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app message; its e-mail copy is sent by ``destreg.audit.notify``.

    It is stored untranslated (``message_id``, the English source string, and its
    ``params``) and put into the reader's language when shown (``text``). ``message`` holds
    the sentence in the default language: what the e-mail said, and the only text of rows
    written before messages were stored untranslated (shown as they are)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    message = models.CharField(_("message"), max_length=300)
    message_id = models.TextField(_("message source"), blank=True)
    params = models.JSONField(_("message values"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=200, blank=True)
    # A change of the reader's own destination: their "这不是我本人的意愿" link (a signed token).
    report_url = models.CharField(_("report link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message

    @property
    def text(self) -> str:
        """The message in the active language (old rows: as they were stored)."""
        if not self.message_id:
            return self.message
        return render_message(self.message_id, self.params)

    # The navigation shows the unread count on every page: it is cached per user until a
    # notification arrives or is read (and for at most a minute, to bound any race).
    UNREAD_SECONDS = 60

    @staticmethod
    def _unread_key(user_id: int) -> str:
        return f"notifications:unread:{user_id}"

    @classmethod
    def unread_count(cls, user) -> int:
        count = cache.get(cls._unread_key(user.pk))
        if count is None:
            count = cls.objects.filter(user=user).unread().count()
            cache.set(cls._unread_key(user.pk), count, cls.UNREAD_SECONDS)
        return count

    @classmethod
    def forget_unread_counts(cls, user_ids) -> None:
        """Call once the change is committed, so the next page counts again."""
        cache.delete_many([cls._unread_key(pk) for pk in user_ids])


class ReviewTaskQuerySet(models.QuerySet["ReviewTask"]):
    def visible_to(self, user) -> "ReviewTaskQuerySet":
        """The tasks in this reviewer's stage and scope."""
        if user.is_platform_admin:
            return self
        if user.is_college_reviewer:
            return self.filter(stage=ReviewTask.Stage.COLLEGE, college_id=user.college_id)
        if user.is_school_reviewer:
            return self.filter(stage=ReviewTask.Stage.SCHOOL, school_id=user.school_id)
        return self.none()


class ReviewTask(models.Model):
    """The review queue's index: one row per item waiting for a reviewer.

    The door (destreg/audit/changes.py) syncs it in the transaction that changes the
    item's state; the item's ``review_entry()`` says whether it waits, at which
    stage (its ``REVIEW`` declaration, destreg/audit/stages.py), and the denormalised
    fields the queue filters and searches on.
    """

    class Stage(models.TextChoices):
        COLLEGE = "college", _("College review")
        SCHOOL = "school", _("School review")

    class Kind(models.TextChoices):
        REGISTRY_IMPORT = "registry_import", _("Registry import by request")
        REGISTRY_UPDATE = "registry_update", _("Registry update")
        ONLINE = "online", _("Online agreement")
        TERMINATION = "termination", _("Termination request")
        VOID_REQUEST = "void_request", _("Void request")
        OFFLINE = "offline", _("Offline e-agreement")
        OFFLINE_SCAN = "offline_scan", _("Stamped agreement scan")
        PAPER = "paper", _("Paper agreement")
        OTHER = "other", _("Other destination")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    school = models.ForeignKey("reference.School", on_delete=models.CASCADE, related_name="+")
    college = models.ForeignKey(
        "reference.College", null=True, on_delete=models.CASCADE, related_name="+"
    )
    major = models.ForeignKey(
        "reference.Major", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    education_level = models.ForeignKey(
        "reference.Code", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    destination = models.ForeignKey(
        "reference.Code", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    student_name = models.CharField(_("student"), max_length=50)
    student_no = models.CharField(_("student number"), max_length=30, blank=True)
    id_last4 = models.CharField(max_length=4, blank=True)
    unit_name = models.CharField(_("unit"), max_length=100, blank=True)
    waiting_since = models.DateTimeField(_("waiting since"))
    # A change of mind after the school's reporting cut-off (it skipped the college).
    after_cutoff = models.BooleanField(_("after the cut-off"), default=False)

    objects = ReviewTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("review task")
        verbose_name_plural = _("review tasks")
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="one_task_per_item")
        ]
        indexes = [
            models.Index(fields=["college", "stage", "waiting_since", "id"]),
            models.Index(fields=["school", "stage", "waiting_since", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.student_name}"

    @classmethod
    def sync(cls, item: models.Model) -> None:
        """Create, update or delete the item's row to match its current state, and move
        the facet counters with it."""
        content_type = ContentType.objects.get_for_model(item)
        entry = item.review_entry()  # type: ignore[attr-defined]
        old = (
            cls.objects.select_for_update(of=("self",))
            .filter(content_type=content_type, object_id=item.pk)
            .first()
        )
        if old is not None:
            ReviewFacetCount.add(old, -1)
        if entry is None:
            if old is not None:
                old.delete()
            return
        task, _created = cls.objects.update_or_create(
            content_type=content_type, object_id=item.pk, defaults=entry
        )
        ReviewFacetCount.add(task, +1)

    def facet_values(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "college": str(self.college_id or ""),
            "major": str(self.major_id or ""),
            "education_level": str(self.education_level_id or ""),
            "destination": str(self.destination_id or ""),
        }


class ReviewFacetCount(models.Model):
    """How many waiting tasks have each facet value, per school, college and stage.

    Kept by ``ReviewTask.sync`` so the queue shows its counts with one small query
    however long it is (the 1,000,000-item benchmark in benchmarks/review_queue.py).
    """

    school_id = models.BigIntegerField()
    college_id = models.BigIntegerField()  # 0 when the task has no college
    stage = models.CharField(max_length=10)
    facet = models.CharField(max_length=20)
    value = models.CharField(max_length=40)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school_id", "college_id", "stage", "facet", "value"],
                name="one_counter_per_facet_value",
            )
        ]

    def __str__(self) -> str:
        return f"{self.facet}={self.value}: {self.n}"

    @classmethod
    def add(cls, task: ReviewTask, delta: int) -> None:
        """Move the task's counters by ``delta`` with one atomic upsert per facet."""
        table = connection.ops.quote_name(cls._meta.db_table)
        sql = (
            f"INSERT INTO {table} (school_id, college_id, stage, facet, value, n) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (school_id, college_id, stage, facet, value) "
            f"DO UPDATE SET n = {table}.n + EXCLUDED.n"
        )
        key = (task.school_id, task.college_id or 0, task.stage)
        with connection.cursor() as cursor:
            cursor.executemany(
                sql, [(*key, facet, value, delta) for facet, value in task.facet_values().items()]
            )

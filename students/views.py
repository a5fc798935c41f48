from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent
from destreg.lib.actions import attempt
from destreg.lib.clients import client_ip
from destreg.reference.models import School
from students import binding, services
from students.coercion import coercion_report_file, report_context
from students.conflicts import disputed_message, is_disputed
from students.forms import (
    ConfirmCodeForm,
    ContactForm,
    ImportRequestForm,
    NotMyWillForm,
    SchoolChoiceForm,
    SendCodeForm,
    SignupForm,
    UpdateRequestForm,
)
from students.home import home_for
from students.models import RegistryRequest
from students.permissions import get_registry_request_for
from students.presenters import describe_request_data

student_required = role_required(Role.STUDENT)


@sensitive_post_parameters("id_number", "password1", "password2")
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        registered = attempt(
            lambda: services.student_register(
                username=data["username"],
                password=data["password1"],
                real_name=data["real_name"],
                id_number=data["id_number"],
                mobile=data["mobile"],
                email=data["email"],
                client_ip=client_ip(request),
            ),
            form=form,
            catch=ValidationError,
        )
        if registered.value is not None:
            login(
                request,
                registered.value.user,
                backend="destreg.accounts.backends.UserAndProfileBackend",
            )
            messages.success(request, _("Your account is ready. Please confirm your registry."))
            return redirect("students:home")
    return render(request, "students/signup.html", {"form": form})


@student_required
def home(request):
    student = request.user.student
    home = home_for(student)
    pending_kinds = {r.kind for r in home.requests if r.status == RegistryRequest.Status.SUBMITTED}
    context = {
        "student": student,
        "record": home.record,
        "requests": home.requests,
        "import_pending": RegistryRequest.Kind.IMPORT in pending_kinds,
        "update_pending": RegistryRequest.Kind.UPDATE in pending_kinds,
        "record_problem": home.problem,
        "to_do": home.to_do(),
        "waiting": home.waiting(),
    }
    if not student.is_confirmed and home.record is not None:
        context |= {
            "record_disputed": is_disputed(home.record) and disputed_message(),
            "record_taken": binding.record_holder(home.record) not in (None, student),
            "send_form": SendCodeForm(record=home.record),
            "code_form": ConfirmCodeForm(),
        }
    return render(request, "students/home.html", context)


@student_required
@require_POST
def send_code(request):
    """First-login check, step 1: send a one-time code to one of the record's contacts."""
    student = request.user.student
    record = home_for(student).record if not student.is_confirmed else None
    if record is None:
        return redirect("students:home")
    form = SendCodeForm(request.POST, record=record)
    if not form.is_valid():
        messages.error(request, _("Choose where to send the code."))
        return redirect("students:home")
    channel = form.cleaned_data["channel"]
    if attempt(
        lambda: binding.registry_code_send(
            student=student, channel=channel, client_ip=client_ip(request)
        ),
        request=request,
        catch=ValidationError,
    ):
        where = record.mobile_masked if channel == "sms" else record.email_masked
        messages.success(
            request,
            _("A code was sent to %(where)s. It is valid for 10 minutes.") % {"where": where},
        )
    return redirect("students:home")


@student_required
@require_POST
def confirm(request):
    """First-login check, step 2: the code links the record."""
    form = ConfirmCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the code."))
        return redirect("students:home")
    if attempt(
        lambda: binding.registry_confirm(
            student=request.user.student, code=form.cleaned_data["code"]
        ),
        request=request,
        catch=ValidationError,
    ):
        messages.success(request, _("Registry confirmed. You can now register your destination."))
    return redirect("students:home")


@student_required
def account(request):
    student = request.user.student
    form = ContactForm(
        request.POST or None, initial={"mobile": student.mobile, "email": request.user.email}
    )
    if request.method == "POST" and form.is_valid():
        services.student_update_contact(student=student, **form.cleaned_data)
        messages.success(request, _("Your contact details are saved."))
        return redirect("students:account")
    return render(request, "students/account.html", {"form": form, "student": student})


_SENT = {
    RegistryRequest.Kind.IMPORT: gettext_lazy("Your request was sent to the school for review."),
    RegistryRequest.Kind.UPDATE: gettext_lazy("Your correction request was sent to the school."),
}


def _submitted(
    request,
    form,
    kind: RegistryRequest.Kind,
    data: Callable[[], dict],
    school: School | None = None,
) -> HttpResponse | None:
    """A valid POST of a 信息导入 / 信息更新 form: send the request (``data()`` its payload)
    to ``school`` (by default the school of the student's record) and go to its page. None
    when there is nothing to send or the service refused (the reason is then on ``form``)."""
    if request.method != "POST" or not form.is_valid():
        return None
    student = request.user.student
    created = attempt(
        lambda: services.registry_request_submit(
            student=student,
            kind=kind,
            school=school or student.record.school,
            data=data(),
            note=form.cleaned_data["note"],
        ),
        form=form,
        catch=ValidationError,
    )
    if created.value is None:
        return None
    messages.success(request, _SENT[kind])
    return redirect("students:request_detail", pk=created.value.pk)


@student_required
def import_request(request):
    """信息导入, in two steps: choose the school, then fill in its registry fields."""
    student = request.user.student
    if student.is_confirmed:
        messages.info(request, _("Your registry is already confirmed."))
        return redirect("students:home")
    chooser = SchoolChoiceForm(request.GET or None)
    if not chooser.is_valid():
        return render(request, "students/import_choose_school.html", {"chooser": chooser})
    school = chooser.cleaned_data["school"]
    form = ImportRequestForm(request.POST or None, school=school)
    if sent := _submitted(request, form, RegistryRequest.Kind.IMPORT, form.as_data, school):
        return sent
    return render(request, "students/import_request.html", {"form": form, "school": school})


@student_required
def update_request(request):
    student = request.user.student
    if not student.is_confirmed:
        messages.info(request, _("Confirm your registry before asking to correct it."))
        return redirect("students:home")
    form = UpdateRequestForm(request.POST or None, record=student.record)
    if sent := _submitted(request, form, RegistryRequest.Kind.UPDATE, form.corrections):
        return sent
    return render(request, "students/update_request.html", {"form": form})


@student_required
def request_detail(request, pk: int):
    registry_request = get_registry_request_for(request.user, pk)
    return render(
        request,
        "students/request_detail.html",
        {
            "item": registry_request,
            "rows": describe_request_data(registry_request),
            "events": AuditEvent.objects.timeline(registry_request),
        },
    )


@login_required
def not_my_will(request, token: str):
    """这不是我本人的意愿: the graduate the link was made for (signed in) reports that the
    change it was sent about was not their own wish; anyone else gets 404. A second visit
    shows the report already filed."""
    notification, report = report_context(user=request.user, token=token)
    form = NotMyWillForm(request.POST or None)
    if request.method == "POST" and report is None and form.is_valid():
        filed = attempt(
            lambda: coercion_report_file(
                user=request.user, token=token, text=form.cleaned_data["text"]
            ),
            form=form,
            catch=ValidationError,
        )
        if filed:
            messages.success(
                request, _("Your report was filed; the school's reviewers will look into it.")
            )
            return redirect("students:not_my_will", token=token)
    return render(
        request,
        "students/not_my_will.html",
        {"notification": notification, "report": report, "form": form},
        status=400 if form.errors else 200,
    )

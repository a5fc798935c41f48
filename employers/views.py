from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from employers import services
from employers.forms import EmployerRegistrationForm


@role_required(Role.EMPLOYER)
def home(request):
    employer = request.user.employer
    return render(request, "employers/home.html", {"employer": employer})


@sensitive_post_parameters("password1", "password2")
def register(request):
    """用人单位注册: the unit and its first account, unverified until staff check it."""
    if request.user.is_authenticated:
        return redirect("home")
    form = EmployerRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = {name: data[name] for name in EmployerRegistrationForm.Meta.fields}
        user = services.employer_register(
            username=data["username"], password=data["password1"], unit=unit
        )
        login(request, user, backend="destreg.accounts.backends.UserAndProfileBackend")
        messages.success(request, _("Registered. Your unit waits for verification by staff."))
        return redirect("employers:home")
    return render(request, "employers/register.html", {"form": form})

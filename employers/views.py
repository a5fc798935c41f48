from django.shortcuts import render

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role


@role_required(Role.EMPLOYER)
def home(request):
    employer = request.user.employer
    return render(request, "employers/home.html", {"employer": employer})

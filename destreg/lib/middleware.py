from django.conf import settings
from django.http import HttpResponseBadRequest
from django.template import loader
from django.utils import translation


class LanguageCookieMiddleware:
    """Chinese unless the user chose otherwise.

    Django's LocaleMiddleware follows the browser's Accept-Language, which
    would show English to every graduate whose phone is set to English. Here
    only the language switch (its cookie) changes the language.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


NUL = "\x00"


class RejectNulMiddleware:
    """Answer 400 to a NUL character in the address, the query string, a header, or a
    form field's name or value.

    No browser sends one, PostgreSQL refuses NUL in any text it is given (so a stray
    ``%00`` in whatever a view looks up would be a 500), and the C libraries under file
    storage and PDF rendering stop at it. Checking here covers every view, present and
    future; forms reject NUL too, but many views read a parameter directly.
    A cookie carrying NUL is dropped instead (as if it were absent): a cookie set by a
    neighbouring site must not lock the user out.

    Sits before the session middleware, which reads the session cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, value in list(request.COOKIES.items()):
            if NUL in name or NUL in value:
                del request.COOKIES[name]
        if self._carries_nul(request):
            return HttpResponseBadRequest(loader.get_template("400.html").render())
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request) -> bool:
        if NUL in request.path_info:
            return True
        headers = (
            v for k, v in request.META.items() if k.startswith("HTTP_") and k != "HTTP_COOKIE"
        )
        if any(isinstance(value, str) and NUL in value for value in headers):
            return True
        fields = [request.GET]
        if request.method == "POST":  # only POST bodies are parsed into form fields
            fields.append(request.POST)  # (Django drops NUL from uploaded file names itself)
        return any(
            NUL in key or any(NUL in value for value in values)
            for data in fields
            for key, values in data.lists()
        )

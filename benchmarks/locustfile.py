"""The peak-season mix for `benchmarks/load.py` (locust; not meant to be run by hand).

Every simulated person signs in once (before the measured window), then browses and acts
as they would in the weeks before graduation:

- graduates open their home page and invitations, and accept (or now and then decline) one;
- employers look at what they sent and send new invitations by name and 身份证号;
- college and school reviewers open their queue and approve agreements from it.

Credentials come from the JSON file named by LOAD_CREDENTIALS, written by load.py.
A response counts as an error if it is not the status the page should answer with.
"""

import collections
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import struct
import time

import gevent
import gevent.lock
from locust import FastHttpUser, between, task

with open(os.environ["LOAD_CREDENTIALS"], encoding="utf-8") as _file:
    PEOPLE = json.load(_file)
PASSWORD = PEOPLE["password"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
INVITATION = re.compile(r"/agreements/invitations/(\d+)/")
AGREEMENT_REVIEW = re.compile(r"/reviews/agreements/(\d+)/")
_next = {role: itertools.count() for role in ("students", "employers", "college", "school")}


_signed_in = itertools.count(1)


def _signed_in_once(environment) -> None:
    """Count sign-ins; once everyone is in (Argon2 makes each one dear), let the load settle
    for LOAD_SETTLE seconds, then measure for LOAD_DURATION seconds and stop."""
    if next(_signed_in) != environment.runner.target_user_count:
        return
    settle, duration = float(os.environ["LOAD_SETTLE"]), float(os.environ["LOAD_DURATION"])
    gevent.spawn_later(settle, environment.runner.stats.reset_all)
    gevent.spawn_later(settle + duration, environment.runner.quit)


# Several simulated people share the school reviewer's account, and its authenticator
# accepts each time step's code once: they take turns at the code page, each with a newer step.
_code_turns: dict[str, gevent.lock.Semaphore] = collections.defaultdict(gevent.lock.Semaphore)
_last_step: dict[str, int] = {}


def authenticator_code(me: dict) -> str:
    """What the person's authenticator app shows (RFC 6238 TOTP, SHA-1, 6 digits), for a time
    step this account has not used yet (waiting for the next one if need be)."""
    key, period = bytes.fromhex(me["totp_key"]), int(me["totp_step"])
    while (step := int(time.time()) // period) <= _last_step.get(me["username"], -1):
        gevent.sleep(period - time.time() % period + 0.01)
    _last_step[me["username"]] = step
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def account(role: str) -> dict:
    """Hand out the role's accounts in turn, so concurrent users rarely share one."""
    pool = PEOPLE[role]
    return pool[next(_next[role]) % len(pool)]


class Person(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    role = ""

    def on_start(self):
        self.me = account(self.role)
        page = self.get("/login/", "login form")
        self.post("/login/", {"username": self.me["username"], "password": PASSWORD}, page, "login")
        if "totp_key" in self.me:  # staff with a second factor: the code page next
            with _code_turns[self.me["username"]]:
                page = self.get("/second-factor/", "second factor form")
                code = authenticator_code(self.me)
                self.post("/second-factor/", {"code": code}, page, "second factor")
        _signed_in_once(self.environment)

    def get(self, url: str, name: str):
        """A page: anything but 200 is an error, a redirect to the login page included."""
        with self.client.get(
            url, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{name}: HTTP {response.status_code}")
        return response

    def token(self, response) -> dict:
        found = CSRF.search(response.text or "")
        return {"csrfmiddlewaretoken": found.group(1)} if found else {}

    def post(self, url: str, data: dict, page, name: str) -> None:
        """A form submission: Django answers 302 to a valid one."""
        with self.client.post(
            url, data={**data, **self.token(page)}, allow_redirects=False, name=name,
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 302:
                response.failure(f"{name}: HTTP {response.status_code}")


class Graduate(Person):
    weight = 14
    role = "students"

    @task(6)
    def home(self):
        self.get("/students/", "student home")

    @task(3)
    def invitations(self):
        self.get("/agreements/invitations/", "invitations")

    @task(2)
    def answer(self):
        listing = self.get("/agreements/invitations/", "invitations")
        found = INVITATION.findall(listing.text or "")
        if not found:
            return
        pk = found[0]
        page = self.get(f"/agreements/invitations/{pk}/", "invitation")
        if f"/agreements/invitations/{pk}/answer/" in (page.text or ""):
            answer = "accept" if random.random() < 0.9 else "decline"
            self.post(
                f"/agreements/invitations/{pk}/answer/",
                {"answer": answer, "confirm": "1"},
                page,
                "answer",
            )


class Employer(Person):
    weight = 4
    role = "employers"

    @task(3)
    def sent(self):
        self.get("/agreements/sent/", "employer sent")

    @task(1)
    def invite(self):
        graduate = random.choice(PEOPLE["graduates"])
        page = self.get("/agreements/invite/", "invite form")
        data = {
            "name": graduate["name"], "id_number": graduate["id_number"], "job_category": "13",
            "position": "软件工程师", "work_location": "北京市海淀区", "probation_months": "3",
            "probation_salary": "9000", "salary": "12000", "penalty": "5000",
            "report_place": "北京市海淀区中关村大街1号", "report_deadline": "",
            "hukou": "employer", "supplement": "", "answer_by": "",
        }  # fmt: skip
        # A graduate who already has a live invitation from this unit gets the form back
        # with that message (HTTP 200): a correct answer, not an error.
        with self.client.post(
            "/agreements/invite/", data={**data, **self.token(page)}, allow_redirects=False,
            name="invite", catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code not in (200, 302):
                response.failure(f"invite: HTTP {response.status_code}")


class Reviewer(Person):
    abstract = True

    @task(3)
    def queue(self):
        self.get("/reviews/", f"{self.role} queue")

    @task(2)
    def approve(self):
        listing = self.get("/reviews/?kind=online", f"{self.role} queue")
        found = AGREEMENT_REVIEW.findall(listing.text or "")
        if not found:
            return
        pk = random.choice(found)
        page = self.get(f"/reviews/agreements/{pk}/", f"{self.role} agreement")
        if f"/reviews/agreements/{pk}/decide/" not in (page.text or ""):
            return  # someone else decided it in the meantime
        # Two reviewers may approve the same item at once: the loser is told it is no longer
        # theirs to decide (HTTP 403 or 400 with the reason), the right answer, not a failure.
        with self.client.post(
            f"/reviews/agreements/{pk}/decide/",
            data={"decision": "approve", "comment": "", **self.token(page)},
            allow_redirects=False, name=f"{self.role} approve", catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code in (400, 403):
                response.success()
            elif response.status_code != 302:
                response.failure(f"approve: HTTP {response.status_code}")


class CollegeReviewer(Reviewer):
    weight = 2
    role = "college"


class SchoolReviewer(Reviewer):
    weight = 1
    role = "school"


# --- the side-by-side pair: the student home page against a bare HttpResponse -------------


class HomeOnly(Person):
    """Requests the student home page back to back (no think time)."""

    role = "students"
    wait_time = between(0, 0)

    @task
    def home(self):
        self.get("/students/", "student home")


class BareOnly(FastHttpUser):
    """Requests the bare health view back to back through the same server."""

    wait_time = between(0, 0)

    def on_start(self):
        _signed_in_once(self.environment)  # nobody signs in; start measuring as the others do

    @task
    def bare(self):
        self.client.get("/healthz", name="bare view")

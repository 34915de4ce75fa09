"""The demo's first phase: 200 public buyers submit the registration form over HTTP.

Varied people (names, countries, languages, time zones), most choosing a session or two, some
"all", many the small workshop (filled past its capacity to its waitlist); a few press
"submit" twice, and a few posts are bad on purpose.
"""

from __future__ import annotations

import json
import random
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kbs.demo_session import say

SMALL_WORKSHOP = "kbs-07-monitoring"  # 10 places in the sample: filled to its waitlist
REGISTRANTS = 200
SMALL_WORKSHOP = "kbs-07-monitoring"  # 10 places in the sample: filled to its waitlist

PEOPLE = [
    # (first names, family names, country, language, time zone, authority)
    (["Zoë", "Anna", "Lars"], ["Åkesson", "Lindqvist"], "SE", "sv", "Europe/Stockholm", "Region"),
    (["José", "María", "Iñaki"], ["Núñez", "García"], "ES", "es", "Europe/Madrid", "Ayuntamiento"),
    (["Siobhán", "Ciarán"], ["Ó Briain", "Murphy"], "IE", "en", "Europe/Dublin", "Council"),
    (["Łukasz", "Zofia"], ["Wiśniewski", "Kowalska"], "PL", "pl", "Europe/Warsaw", "Urząd"),
    (["François", "Élodie"], ["Lefèvre", "Dubois"], "FR", "fr", "Europe/Paris", "Mairie"),
    (["Jürgen", "Katrin"], ["Müller", "Schäfer"], "DE", "de", "Europe/Berlin", "Landkreis"),
    (["Giulia", "Matteo"], ["Rossi", "Bianchi"], "IT", "it", "Europe/Rome", "Comune"),
    (["Sanne", "Pieter"], ["de Vries", "Jansen"], "NL", "nl", "Europe/Amsterdam", "Gemeente"),
    (["Aino", "Mikko"], ["Virtanen", "Korhonen"], "FI", "fi", None, "Kaupunki"),
    (["Emily", "Oliver"], ["Smith", "Jones"], "GB", "en", "Europe/London", "Borough Council"),
]
BAD_POSTS: list[tuple[str, dict[str, str | list[str]]]] = [
    ("invalid email", {"email": "not-an-email"}),
    ("consent missing", {"consent": ""}),
    ("unknown session", {"sessions": ["kbs-99-unknown"]}),
    ("honeypot filled", {"website": "http://spam.example"}),
    ("script in name", {"full_name": "<script>alert(1)</script>"}),
    ("bad country", {"country": "XX"}),
]


@dataclass
class Tally:
    accepted: int = 0
    duplicates_sent: int = 0
    resent: int = 0
    """Emails the repeated submissions bring: the details of each place held, sent again once."""
    rejected: Counter[str] = field(default_factory=Counter)
    expected_bookings: set[tuple[str, str]] = field(default_factory=set)


def _post(api_url: str, fields: dict[str, str | list[str]]) -> tuple[int, dict[str, object]]:
    body = urllib.parse.urlencode(fields, doseq=True).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback URL from local.json
        f"{api_url}/registrations",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _ascii(name: str) -> str:
    """Mailbox names are ASCII even where people's names are not (Zoë -> zoe)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return folded.replace(" ", "").lower()


def registrants(session_ids: list[str], rng: random.Random) -> list[dict[str, str | list[str]]]:
    """200 varied form posts: most pick a few sessions, some pick "all", many want the workshop."""
    forms: list[dict[str, str | list[str]]] = []
    for i in range(REGISTRANTS):
        firsts, lasts, country, language, zone, authority = PEOPLE[i % len(PEOPLE)]
        first, last = rng.choice(firsts), rng.choice(lasts)
        if i % 25 == 0:
            chosen: list[str] = ["all"]
        else:
            chosen = rng.sample(session_ids[:-1], k=rng.randint(1, 2))
            if i % 8 == 0:
                chosen.append(SMALL_WORKSHOP)
        form: dict[str, str | list[str]] = {
            "full_name": f"{first} {last}",
            "email": f"{_ascii(first)}.{_ascii(last)}.{i}@buyers.example.eu",
            "organisation": f"{authority} {i % 17 + 1}",
            "country": country,
            "role": rng.choice(["Procurement officer", "Category manager", "Legal adviser", ""]),
            "language": language,
            "sessions": chosen,
            "consent": "on",
            "website": "",
        }
        if zone:
            form["timezone"] = zone
        forms.append(form)
    return forms


def submit_all(api_url: str, session_ids: list[str], rng: random.Random) -> Tally:
    tally = Tally()
    forms = registrants(session_ids, rng)
    # A few people press "submit" twice: the second post books nothing; each place they hold
    # gets its confirmation (or waitlist email) once more, as one who lost the link would want.
    repeats = [dict(forms[i]) for i in range(3, REGISTRANTS, 40)]
    bad = []
    for n, (reason, override) in enumerate(BAD_POSTS):
        bad.append((reason, {**forms[n], **override}))

    def one(form: dict[str, str | list[str]]) -> tuple[int, dict[str, object]]:
        return _post(api_url, form)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for done, (form, (status, _)) in enumerate(
            zip(forms, pool.map(one, forms), strict=True), 1
        ):
            if status == 202:
                tally.accepted += 1
                chosen = form["sessions"]
                ids = session_ids if chosen == ["all"] else list(chosen)
                tally.expected_bookings |= {(str(form["email"]).lower(), s) for s in ids}
            else:
                tally.rejected[f"unexpected HTTP {status}"] += 1
            if done % 50 == 0:
                say(f"  submitted {done}/{REGISTRANTS} registrations")
    for form in repeats:
        status, _ = _post(api_url, form)
        if status == 202:
            tally.duplicates_sent += 1
            chosen = form["sessions"]
            tally.resent += len(session_ids if chosen == ["all"] else list(chosen))
    for reason, form in bad:
        status, answer = _post(api_url, form)
        errors = answer.get("errors")
        fields = ", ".join(sorted(errors)) if isinstance(errors, dict) else ""
        tally.rejected[f"{reason} (HTTP {status}: {fields})"] += 1
    return tally

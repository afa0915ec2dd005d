"""Automations against a real SMTP server (aiosmtpd) on a real SQLite file and a real
PostgreSQL database: who gets which email, in which language, with the ledger's figures;
consent, forgetting and caps honoured; one message per occasion however often `run` runs, even
two runs at once; a server that is down loses nothing and sends nothing twice."""

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from ledger import audit, events, profiles
from ledger.automations import sends
from ledger.cli import main
from ledger.store import LedgerStore
from tests.smtp_server import SmtpServer, html_of, text_of

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PROGRAM = """
version = 1
name = "Bean Club"
currency = "EUR"

[earning]
points_per_unit = 1
expire_after_days = 365

[[tiers]]
id = "gold"
name = "Gold"
min_points = 500

[[rewards]]
id = "coffee"
name = "Free coffee"
cost = 100
kind = "amount_off"
amount_minor = 250

[[rewards]]
id = "cake"
name = "Cake of the day"
cost = 200
kind = "amount_off"
amount_minor = 400

[automations.reward_available]
cap_count = 1
cap_days = 30
"""


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def ledger(ledger_db, tmp_path, smtp):
    """A ledger with the program loaded and an SMTP config file for the test server."""
    program = tmp_path / "program.toml"
    program.write_text(PROGRAM)
    assert cli(ledger_db, "program", "load", str(program))[0] == 0
    config = tmp_path / "smtp.toml"
    config.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
                      'sender = "Bean Club <club@bean.example>"\n')
    store = LedgerStore(ledger_db)
    yield store, str(config)
    store.close()


def cli(db: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main([*args[:2], "--db", db, *args[2:]] if len(args) > 1 else [*args, "--db", db])
    return status, out.getvalue()


def run(store: LedgerStore, config: str, *extra: str, now: dt.datetime = NOW) -> tuple[int, str]:
    return cli(store.path, "automations", "run", "--smtp-config", config,
               "--now", now.isoformat(), *extra)


def member(store: LedgerStore, name: str, email: str | None = None, language: str = "en",
           points: int = 0, consent: bool | None = True, birth_date: str | None = None) -> str:
    member_id = store.add_member(name, opening_balance=points)
    fields = {"language": language, **({"email": email} if email else {}),
              **({"birth_date": birth_date} if birth_date else {})}
    profiles.update(store, member_id, fields)
    if consent is not None:
        profiles.set_consent(store, member_id, "email", consent, "kiosk", "v1")
    return member_id


def birthday_in(days: int) -> str:
    day = (NOW + dt.timedelta(days=days)).date()
    return day.replace(year=1990 if not (day.month == 2 and day.day == 29) else 1992).isoformat()


def fired(store: LedgerStore) -> list[events.Event]:
    return events.since(store.db, types=("automation.fired",))


def test_a_birthday_email_in_the_members_language_once_a_year(ledger, smtp):
    store, config = ledger
    anna = member(store, "Anna", "anna@example.org", "de", points=40, birth_date=birthday_in(5))
    status, out = run(store, config, "--only", "birthday")
    assert status == 0 and "birthday: 1 sent" in out
    [msg] = smtp.inbox.to("anna@example.org")
    assert msg["Subject"] == "Alles Gute zum Geburtstag von Bean Club"
    assert msg["Content-Language"] == "de"
    assert msg["From"] == "Bean Club <club@bean.example>"
    assert "Hallo Anna," in text_of(msg) and "Ihr Punktestand: 40 Punkte." in text_of(msg)
    assert "<p>Ihr Punktestand: 40 Punkte.</p>" in html_of(msg)
    assert "List-Unsubscribe" in msg and "mailto:club@bean.example" in msg["List-Unsubscribe"]
    # the timer runs again the same day, and again a few days later: nothing more
    for later in (NOW, NOW + dt.timedelta(days=3)):
        assert "birthday: 1 sent already" in run(store, config, "--only", "birthday",
                                                   now=later)[1]
    assert len(smtp.inbox.messages) == 1
    [event] = fired(store)
    assert event.member_id == anna and event.data["automation"] == "birthday"
    assert event.data["occasion"] == f"birthday:{(NOW + dt.timedelta(days=5)).year}"
    assert "birthday" not in event.data["figures"]  # a birth date is personal: not in events
    # a year on, the next birthday
    run(store, config, "--only", "birthday", now=NOW + dt.timedelta(days=365))
    assert len(smtp.inbox.to("anna@example.org")) == 2


def test_email_only_with_consent_holding_now_and_forgotten_members_never(ledger, smtp):
    store, config = ledger
    given = member(store, "Given", "given@example.org", points=95)
    never = member(store, "Never", "never@example.org", points=95, consent=None)
    withdrawn = member(store, "Withdrawn", "withdrawn@example.org", points=95)
    profiles.set_consent(store, withdrawn, "email", False, "web", "v1")
    gone = member(store, "Gone", "gone@example.org", points=95)
    profiles.forget(store, gone)
    status, out = run(store, config, "--only", "nearing_reward")
    assert status == 0, out
    assert [m["To"].addresses[0].addr_spec for m in smtp.inbox.messages] == ["given@example.org"]
    msg = smtp.inbox.messages[0]
    assert msg["Subject"] == "Only 5 points to Free coffee"
    assert "You have 95 points. With 5 more you can have Free coffee (100 points)." in text_of(msg)
    # the webhook channel (ids and figures only) fires for the live members, never the forgotten
    assert sorted(e.member_id for e in fired(store)) == sorted([given, never, withdrawn])
    by_member = {e.member_id: e.data["channels"] for e in fired(store)}
    assert by_member[given] == ["email", "webhook"] and by_member[never] == ["webhook"]


def test_points_expiring_names_the_points_and_the_day_english_for_another_language(ledger, smtp):
    store, config = ledger
    jean = member(store, "Jean", "jean@example.org", "fr", points=60)
    # 20 days before the points are a year old, nothing is due yet (days_ahead 14)
    assert "nothing due" in run(store, config, "--only", "points_expiring",
                                now=NOW + dt.timedelta(days=345))[1]
    soon = NOW + dt.timedelta(days=365 - 10)
    status, out = run(store, config, "--only", "points_expiring", now=soon)
    assert status == 0 and "points_expiring: 1 sent" in out
    [msg] = smtp.inbox.messages
    earned = dt.datetime.fromisoformat(store.history(jean)[0]["at"])
    expires = (earned + dt.timedelta(days=365)).date().isoformat()
    assert msg["Subject"] == f"60 points expire on {expires}"
    assert f"60 of your 60 points expire on {expires}." in text_of(msg)
    assert msg["Content-Language"] == "en"
    assert sends.recent(store)[0].occasion == f"expiring:{expires}"


def test_the_frequency_cap_holds_a_second_reward_back_for_30_days(ledger, smtp):
    store, config = ledger
    bo = member(store, "Bo", "bo@example.org", points=120)
    assert "reward_available: 1 sent" in run(store, config, "--only", "reward_available")[1]
    store.adjust(bo, 100, "birthday gift", "test")  # 220: the cake is in reach, a new occasion
    assert "reward_available: 1 capped" in run(store, config, "--only", "reward_available",
                                               now=NOW + dt.timedelta(days=10))[1]
    assert "reward_available: 1 sent" in run(store, config, "--only", "reward_available",
                                             now=NOW + dt.timedelta(days=31))[1]
    subjects = [m["Subject"] for m in smtp.inbox.to("bo@example.org")]
    assert subjects == ["Free coffee is yours to take", "Cake of the day is yours to take"]


def test_a_name_with_markup_is_text_in_the_html_part(ledger, smtp):
    store, config = ledger
    member(store, "<script>alert(1)</script>", "x@example.org", points=150)
    run(store, config, "--only", "reward_available")
    [msg] = smtp.inbox.messages
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_of(msg)
    assert "<script>" not in html_of(msg)
    assert "Hello <script>alert(1)</script>," in text_of(msg)  # plain text is not HTML


def test_a_server_that_is_down_loses_nothing_and_sends_nothing_twice(ledger, smtp):
    store, config = ledger
    for n in range(3):
        member(store, f"M{n}", f"m{n}@example.org", points=150)
    smtp.stop()
    status, out = run(store, config, "--only", "reward_available")
    assert status == 1 and "1 failed" in out and "2 waiting for the SMTP server" in out
    [failed] = sends.recent(store)
    assert failed.state == sends.FAILED and failed.error == "ConnectionRefusedError"
    smtp.start()
    assert "reward_available: 3 sent" in run(store, config, "--only", "reward_available")[1]
    assert "3 sent already" in run(store, config, "--only", "reward_available")[1]
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.inbox.messages) == [
        "m0@example.org", "m1@example.org", "m2@example.org"]


def test_a_refused_recipient_fails_alone_and_the_rest_go_out(ledger, smtp):
    store, config = ledger
    member(store, "Bad", "bad@example.org", points=150)
    member(store, "Good", "good@example.org", points=150)
    smtp.inbox.refuse.add("bad@example.org")
    status, out = run(store, config, "--only", "reward_available")
    assert status == 1 and "1 failed" in out and "1 sent" in out
    assert [s.error for s in sends.recent(store) if s.state == sends.FAILED] == [
        "SMTPRecipientsRefused"]
    assert [m["To"].addresses[0].addr_spec for m in smtp.inbox.messages] == ["good@example.org"]


def test_two_runs_at_once_send_each_message_once(ledger, smtp):
    store, config = ledger
    for n in range(20):
        member(store, f"M{n}", f"m{n}@example.org", points=150)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "ledger.cli", "automations", "run", "--db", store.path,
           "--smtp-config", config, "--only", "reward_available"]
    runs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in runs]
    assert all(p.returncode == 0 for p in runs), outs
    received = sorted(m["To"].addresses[0].addr_spec for m in smtp.inbox.messages)
    assert received == sorted(f"m{n}@example.org" for n in range(20))
    assert len(fired(store)) == 20


def test_win_back_after_three_purchases_and_six_weeks_away(ledger, smtp):
    from tests.test_segments import paid

    store, config = ledger
    loyal = member(store, "Loyal", "loyal@example.org")
    casual = member(store, "Casual", "casual@example.org")
    last = NOW - dt.timedelta(days=50)
    for days in (100, 60, 0):
        paid(store, loyal, last - dt.timedelta(days=days))
    for days in (30, 0):
        paid(store, casual, last - dt.timedelta(days=days))
    status, out = run(store, config, "--only", "win_back")
    assert status == 0 and "win_back: 1 sent" in out
    [msg] = smtp.inbox.messages
    assert msg["To"].addresses[0].addr_spec == "loyal@example.org"
    assert "It has been 50 days since your last visit." in text_of(msg)
    assert sends.recent(store)[0].occasion == f"win-back:{last.date().isoformat()}"


def test_tier_up_from_the_tier_changed_event(ledger, smtp):
    store, config = ledger
    up = member(store, "Up", "up@example.org", "hi", points=510)
    with store.transaction() as db:  # what the tier review writes (ledger/memberstate.py)
        store.set_tier(up, "gold")
        events.emit(db, "tier.changed", up, {"from": "member", "to": "gold"})
    assert "tier_up: 1 sent" in run(store, config, "--only", "tier_up")[1]
    assert "nothing due" in run(store, config, "--only", "tier_down")[1]
    [msg] = smtp.inbox.messages
    assert msg["Subject"] == "अब आप Gold हैं" and msg["Content-Language"] == "hi"


def test_disable_is_audited_and_run_skips_it(ledger, smtp):
    store, config = ledger
    member(store, "Cy", "cy@example.org", points=150)
    assert cli(store.path, "automations", "disable", "reward_available")[0] == 0
    assert "reward_available  off (switched by cli:" in cli(store.path, "automations", "list")[1]
    assert "reward_available" not in run(store, config)[1]
    [entry] = audit.entries(store.db, target="reward_available")
    assert entry.action == "automation.disable" and entry.via == "cli"
    cli(store.path, "automations", "reset", "reward_available")
    assert "reward_available: 1 sent" in run(store, config)[1]


def test_preview_counts_and_samples_without_sending(ledger, smtp):
    store, config = ledger
    for n in range(3):
        member(store, f"P{n}", f"p{n}@example.org", points=150, consent=n != 2)
    status, out = cli(store.path, "automations", "preview", "reward_available", "--sample", "2")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("reward_available at ") and lines[0].endswith(": 3 would get it")
    assert len([x for x in lines if "coffee:0" in x]) == 2  # the sample of 2
    channels = sorted(x.rsplit(" by ", 1)[1] for x in cli(
        store.path, "automations", "preview", "reward_available")[1].splitlines()[1:])
    assert channels == ["email,webhook", "email,webhook", "webhook"]  # P2 has no email consent
    assert smtp.inbox.messages == []
    assert sends.recent(store) == []


def test_no_address_in_the_logs(ledger, smtp, caplog):
    store, config = ledger
    member(store, "Dee", "dee.secret@example.org", points=150)
    smtp.inbox.refuse.add("dee.secret@example.org")
    with caplog.at_level(logging.DEBUG):
        run(store, config, "--only", "reward_available")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ledger"))
    assert "reward_available" in ours and "dee.secret" not in ours and "Dee" not in ours


def test_run_refuses_email_without_an_smtp_server(ledger):
    store, _ = ledger
    status = main(["automations", "run", "--db", store.path])
    assert status == 2
    body_sends = store.db.execute("SELECT COUNT(*) FROM automation_sends").fetchone()[0]
    assert body_sends == 0


@pytest.mark.parametrize("section, message", [
    ('[automations.birthday]\ndays_ahead = 90', "automations.birthday.days_ahead must be an"
     " integer from 0 to 60, not 90"),
    ('[automations.brithday]\nenabled = true', "automations.brithday is not an automation"),
    ('[automations.welcome]\nchannels = ["sms"]', "automations.welcome.channels must be"),
    ('[automations.win_back]\naway_days = 200', "automations.win_back.give_up_days must be"
     " more than away_days (200)"),
    ('[automations.welcome]\nenabled = "yes"', "automations.welcome.enabled must be true or"),
    ('[automations.welcome]\nwithin = 3', "automations.welcome.within is not a setting"),
])
def test_the_program_file_automations_section_is_checked(tmp_path, section, message):
    from program.errors import ProgramError
    from program.files import load_file

    path = tmp_path / "p.toml"
    path.write_text(PROGRAM.split("[automations")[0] + section + "\n")
    with pytest.raises(ProgramError, match="p.toml: " + message.replace("(", r"\(")
                       .replace(")", r"\)").replace("[", r"\[")):
        load_file(path)


def test_smtp_settings_are_checked_and_the_password_never_shown(tmp_path):
    from ledger.automations import mailer

    path = tmp_path / "smtp.toml"
    path.write_text('[smtp]\nhost = "mail.example"\nsender = "club@x.example"\n'
                    'username = "club"\npassword = "hunter2"\nport = 99999\n')
    with pytest.raises(mailer.MailConfigError, match="smtp.port must be a whole number") as exc:
        mailer.load(str(path), {})
    assert "hunter2" not in str(exc.value)
    path.write_text(path.read_text().replace("99999", "465") + 'security = "ssl"\n')
    settings = mailer.load(str(path), {"LEDGER_SMTP_HOST": "relay.example"})
    assert (settings.host, settings.port, settings.security) == ("relay.example", 465, "ssl")
    assert "hunter2" not in repr(settings)
    assert json.dumps(mailer.load(None, {})) == "null"


def _tls_files(tmp_path):
    """A private CA and the test server's certificate for 127.0.0.1 (ledger.broker_files)."""
    import ssl

    from ledger.broker_files import make_ca, make_server_cert

    ca_cert, ca_key = make_ca("test SMTP CA")
    cert, key = make_server_cert(ca_cert, ca_key, ["127.0.0.1"])
    (tmp_path / "ca.pem").write_bytes(ca_cert)
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return str(tmp_path / "ca.pem"), context


def _authenticator(logins: list):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            (auth_data.login, auth_data.password) == (b"club", b"s3cret pass")
        logins.append(ok)
        return AuthResult(success=ok)

    return check


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_login_with_a_private_ca(ledger_db, tmp_path, security, caplog):
    from ledger.automations import mailer, runner, settings

    ca_file, context = _tls_files(tmp_path)
    logins: list = []
    # aiosmtpd's auth_require_tls looks at STARTTLS only: on an implicit-TLS (ssl) port it would
    # refuse AUTH, so it is asked for on the STARTTLS server alone (the ssl port is TLS anyway)
    tls = {"tls_context": context, "require_starttls": True, "auth_require_tls": True} \
        if security == "starttls" else {"ssl_context": context, "auth_require_tls": False}
    server = SmtpServer(authenticator=_authenticator(logins), **tls)
    server.start()
    try:
        store = LedgerStore(ledger_db)
        member(store, "Tess", "tess@example.org", points=150)
        password = tmp_path / "password"
        password.write_text("s3cret pass\n")
        config = tmp_path / "smtp.toml"
        config.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
                          f'security = "{security}"\nsender = "club@bean.example"\n'
                          f'username = "club"\npassword_file = "{password}"\nca_file = "{ca_file}"\n')
        program, found = settings.active(store)
        with caplog.at_level(logging.DEBUG):
            outcome = runner.run(store, program, found, NOW, mailer.load(str(config), {}),
                                 only="reward_available",
                                 consent_link=lambda m: f"https://club.example/me/{m}")
        assert outcome.counts["reward_available"]["sent"] == 1 and logins == [True]
        [msg] = server.inbox.messages
        assert msg["List-Unsubscribe"].startswith("<https://club.example/me/m-")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "s3cret" not in caplog.text
    finally:
        server.stop()

"""Automations: messages the ledger sends by itself when something happens to a member (welcome,
win-back, birthday, nearing a reward, reward available, points expiring, tier up / down).

One module per job: each automation's module finds its occasions (``occasion.Occasion``: who,
and a key naming the occasion, e.g. ``birthday:2027``); ``plan`` filters them by consent, caps
and what was sent; ``runner`` sends them (``sends`` records each send before it goes out, so
nothing is sent twice); ``mailer`` and ``templates`` make the email. docs/automations.md.
"""

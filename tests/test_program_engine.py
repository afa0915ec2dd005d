"""The rule engine, table-driven: every rule kind alone and in combination, rewards, and the
program file's checks. Pure computation: no database, no broker."""

import copy
import tomllib
from pathlib import Path

import pytest

from program.engine import Basket, Item, MemberState
from program.files import ProgramError, check_body, load_file, program_from_body

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "program.toml"

BASE = {"version": 1, "name": "Test", "currency": "EUR", "timezone": "Europe/Berlin"}
THU_1530 = "2026-11-26T14:30:00Z"  # Thursday 15:30 in Berlin (UTC+1 in November)
THU_1800 = "2026-11-26T17:00:00Z"
SAT_1530 = "2026-11-28T14:30:00Z"
HAPPY = {"id": "happy", "days": ["mon", "tue", "wed", "thu", "fri"], "hours": "15:00-17:00",
         "multiplier": 2}


def program(**over):
    body = copy.deepcopy(BASE)
    for key, value in over.items():
        body[key] = value
    return program_from_body(check_body(body))


def basket(total, items=(), at=THU_1800):
    return Basket("b-1", "EUR", total, tuple(Item(*i) for i in items), at)


COFFEES = [("latte", 2, 300, "coffee"), ("cake", 1, 400, "food")]
BEANS = [("beans-1kg", 1, 1000, "coffee")]
MULTS = {"categories": {"coffee": 2, "tobacco": 0}, "skus": {"beans-1kg": 3}}

CASES = [
    # (what, program overrides, basket, member, expected earn)
    ("1 point per whole euro", {}, basket(1150), MemberState(), 11),
    ("rounding nearest, half up", {"earning": {"rounding": "nearest"}}, basket(1150),
     MemberState(), 12),
    ("rounding nearest, below half", {"earning": {"rounding": "nearest"}}, basket(1149),
     MemberState(), 11),
    ("rounding up", {"earning": {"rounding": "up"}}, basket(1101), MemberState(), 12),
    ("fractional points per unit", {"earning": {"points_per_unit": 2.5}}, basket(1000),
     MemberState(), 25),
    ("yen: no minor units", {"currency": "JPY", "minor_per_unit": 1,
                             "earning": {"points_per_unit": 0.01}}, basket(1999),
     MemberState(), 19),
    ("category multiplier", {"earning": MULTS}, basket(1000, COFFEES), MemberState(), 16),
    ("sku multiplier wins over category", {"earning": MULTS}, basket(1000, BEANS),
     MemberState(), 30),
    ("category that earns nothing", {"earning": MULTS},
     basket(1000, [("cigs", 1, 1000, "tobacco")]), MemberState(), 0),
    ("a discount shares out over the lines", {"earning": MULTS},
     basket(500, [("latte", 2, 500, "coffee")]), MemberState(), 10),
    ("under the minimum spend", {"earning": {"min_spend_minor": 200}}, basket(199),
     MemberState(), 0),
    ("at the minimum spend", {"earning": {"min_spend_minor": 200}}, basket(200),
     MemberState(), 2),
    ("cap per basket", {"earning": {"max_points_per_basket": 20}}, basket(5000),
     MemberState(), 20),
    ("cap per day counts today's points", {"earning": {"max_points_per_day": 30}},
     basket(1000), MemberState(facts={"earned_today": 25}), 5),
    ("cap per day reached", {"earning": {"max_points_per_day": 30}}, basket(1000),
     MemberState(facts={"earned_today": 40}), 0),
    ("tier multiplier", {"tiers": [{"id": "silver", "min_points": 500, "multiplier": 1.25}]},
     basket(1000), MemberState(tier="silver"), 12),
    ("below every tier", {"tiers": [{"id": "silver", "min_points": 500, "multiplier": 1.25}]},
     basket(1000), MemberState(), 10),
    ("happy hour on", {"promotions": [HAPPY]}, basket(1000, at=THU_1530), MemberState(), 20),
    ("happy hour over", {"promotions": [HAPPY]}, basket(1000, at=THU_1800), MemberState(), 10),
    ("happy hour not on saturday", {"promotions": [HAPPY]}, basket(1000, at=SAT_1530),
     MemberState(), 10),
    ("bonus in a date range for a sku",
     {"promotions": [{"id": "beans", "from": "2026-11-01", "until": "2026-11-30",
                      "skus": ["beans-1kg"], "bonus_points": 30}]},
     basket(1000, BEANS), MemberState(), 40),
    ("bonus sku missing from the basket",
     {"promotions": [{"id": "beans", "skus": ["beans-1kg"], "bonus_points": 30}]},
     basket(1000, COFFEES), MemberState(), 10),
    ("bonus after its date range",
     {"promotions": [{"id": "beans", "until": "2026-11-25", "bonus_points": 30}]},
     basket(1000), MemberState(), 10),
    ("promotion for one tier only",
     {"tiers": [{"id": "gold", "min_points": 100}],
      "promotions": [{"id": "gold-x3", "tiers": ["gold"], "multiplier": 3}]},
     basket(1000), MemberState(), 10),
    ("birthday month", {"promotions": [{"id": "bday", "birthday_month": True, "multiplier": 3}]},
     basket(1000), MemberState(facts={"birth_month": 11}), 30),
    ("not the birthday month",
     {"promotions": [{"id": "bday", "birthday_month": True, "multiplier": 3}]},
     basket(1000), MemberState(facts={"birth_month": 5}), 10),
    ("birth month unknown",
     {"promotions": [{"id": "bday", "birthday_month": True, "multiplier": 3}]},
     basket(1000), MemberState(), 10),
    ("promotion limit per day reached",
     {"promotions": [{"id": "p", "bonus_points": 5, "limit_per_member_per_day": 1}]},
     basket(1000), MemberState(facts={"promo_uses": {"p": (1, 4)}}), 10),
    ("promotion limit per day not reached",
     {"promotions": [{"id": "p", "bonus_points": 5, "limit_per_member_per_day": 2}]},
     basket(1000), MemberState(facts={"promo_uses": {"p": (1, 4)}}), 15),
    ("promotion limit ever reached",
     {"promotions": [{"id": "p", "bonus_points": 5, "limit_per_member": 4}]},
     basket(1000), MemberState(facts={"promo_uses": {"p": (0, 4)}}), 10),
    ("first visit bonus", {"earning": {"first_visit_bonus": 25}}, basket(1000),
     MemberState(facts={"visits": 0}), 35),
    ("no first visit bonus later", {"earning": {"first_visit_bonus": 25}}, basket(1000),
     MemberState(facts={"visits": 3}), 10),
    ("hybrid: category, tier, happy hour, bonus, capped",
     {"earning": {**MULTS, "max_points_per_basket": 60},
      "tiers": [{"id": "silver", "min_points": 500, "multiplier": 1.25}],
      "promotions": [HAPPY, {"id": "b", "bonus_points": 5}]},
     basket(1000, COFFEES, at=THU_1530), MemberState(tier="silver"), 45),
    ("hybrid over the cap",
     {"earning": {**MULTS, "max_points_per_basket": 40},
      "tiers": [{"id": "silver", "min_points": 500, "multiplier": 1.25}],
      "promotions": [HAPPY, {"id": "b", "bonus_points": 5}]},
     basket(1000, COFFEES, at=THU_1530), MemberState(tier="silver"), 40),
]


@pytest.mark.parametrize("what, over, bask, member, expected", CASES, ids=[c[0] for c in CASES])
def test_earning_rules(what, over, bask, member, expected):
    quote = program(**over).quote(bask, member)
    assert quote.earn == expected
    assert quote.earn == max(0, sum(p for _, p in quote.breakdown))  # the breakdown adds up


def test_breakdown_names_each_rule():
    p = program(earning=MULTS, tiers=[{"id": "silver", "min_points": 500, "multiplier": 1.25}],
                promotions=[HAPPY])
    quote = p.quote(basket(1000, COFFEES, at=THU_1530), MemberState(tier="silver"))
    assert quote.breakdown == (("base", 16), ("tier:silver", 4), ("promo:happy", 20))


def test_tiers_follow_points_over_the_window():
    p = program(tiers=[{"id": "gold", "min_points": 2000, "multiplier": 1.5},
                       {"id": "silver", "min_points": 500}])
    tier = [p.tier_for(MemberState(facts={"window_points": n})) for n in (0, 499, 500, 2500)]
    assert tier == ["member", "member", "silver", "gold"]


REWARDS = [{"id": "coffee", "name": "Free coffee", "cost": 100, "kind": "amount_off",
            "amount_minor": 250},
           {"id": "pastry", "name": "Pastry", "cost": 80, "kind": "free_item",
            "sku": "croissant", "amount_minor": 190},
           {"id": "gold-10", "name": "10% off", "cost": 150, "kind": "percent_off",
            "percent": 10, "tiers": ["gold"]}]


def test_rewards_kinds_and_tier_only():
    p = program(tiers=[{"id": "gold", "min_points": 2000}], rewards=REWARDS)
    assert [r.reward_id for r in p.rewards(MemberState())] == ["coffee", "pastry"]
    assert [r.reward_id for r in p.rewards(MemberState(tier="gold"))] == [
        "coffee", "pastry", "gold-10"]
    b = basket(2000, [("croissant", 2, 210, "food"), ("latte", 1, 1580, "coffee")])
    assert [p.reward(r).discount_for(b) for r in ("coffee", "pastry", "gold-10")] == [250, 210, 200]
    assert p.reward("pastry").discount_for(basket(500)) == 190  # no croissant priced: the default


def test_the_documented_example_loads():
    p = program_from_body(load_file(EXAMPLE))
    assert p.version == 2 and len(p.tiers) == 2 and len(p.catalogue) == 3
    # 2 lattes and a cake in happy hour, as a silver member: (6*2 + 4) * 1.25 * 2 = 40
    assert p.quote(basket(1000, COFFEES, at=THU_1530), MemberState(tier="silver")).earn == 40


BAD_FILES = [
    ('version = 1\nname = "x"\n', "program must contain ['currency']"),
    ('version = "one"\nname = "x"\ncurrency = "EUR"\n', "version must be integer"),
    (EXAMPLE.read_text().replace('rounding = "down"', 'rounding = "sideways"'),
     "earning.rounding must be one of ['down', 'nearest', 'up']"),
    (EXAMPLE.read_text().replace("[earning]", "[earning]\npionts_per_unit = 3"),
     "earning must not contain {'pionts_per_unit'}"),
    (EXAMPLE.read_text().replace('tiers = ["gold"]', 'tiers = ["platinum"]'),
     "rewards[2] (gold-10).tiers names tier 'platinum'"),
    (EXAMPLE.read_text().replace('hours = "15:00-17:00"', 'hours = "17:00-15:00"'),
     "promotions[0] (happy-hour).hours '17:00-15:00': the end must be after the start"),
    (EXAMPLE.read_text().replace('percent = 10\n', ''), "gold-10): a percent_off reward needs percent"),
    (EXAMPLE.read_text().replace('"Europe/Berlin"', '"Mars/Olympus"'),
     "timezone 'Mars/Olympus' is not a known time zone"),
    (EXAMPLE.read_text().replace('until = 2026-05-31', 'until = 2026-02-01'),
     "until 2026-02-01 is before from 2026-03-01"),
    (EXAMPLE.read_text().replace('id = "gold"', 'id = "silver"'), "tiers[1].id 'silver' is used twice"),
    ('version = 1\nname = "x\n', "not valid TOML"),
]


@pytest.mark.parametrize("text, message", BAD_FILES)
def test_bad_program_files_are_named_clearly(tmp_path, text, message):
    path = tmp_path / "shop.toml"
    path.write_text(text)
    with pytest.raises(ProgramError) as err:
        load_file(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_unreadable_program_file(tmp_path):
    with pytest.raises(ProgramError, match="cannot read"):
        load_file(tmp_path / "missing.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ProgramError, match="not UTF-8"):
        load_file(tmp_path / "bin.toml")


def test_toml_dates_become_plain_strings():
    body = load_file(EXAMPLE)
    assert body["promotions"][1]["from"] == "2026-03-01"
    assert tomllib.loads(EXAMPLE.read_text())["version"] == body["version"]


def test_docs_show_the_example_the_tests_load():
    doc = (EXAMPLE.parent.parent / "program.md").read_text()
    assert f"```toml\n{EXAMPLE.read_text()}```" in doc


PUNCH = [{"id": "coffee-card", "categories": ["coffee"], "every": 10, "bonus_points": 100}]


@pytest.mark.parametrize("before, items, bonus", [
    (0, [("latte", 2, 300, "coffee")], 0),
    (8, [("latte", 2, 300, "coffee")], 100),  # the 10th coffee fills the card
    (9, [("latte", 1, 300, "coffee"), ("cake", 3, 400, "food")], 100),
    (15, [("latte", 25, 300, "coffee")], 300),  # 16th..40th: fills at 20, 30, 40
    (9, [("cake", 3, 400, "food")], 0),
])
def test_punch_cards(before, items, bonus):
    p = program(punch_cards=PUNCH)
    total = sum(q * u for _, q, u, _ in items)
    quote = p.quote(basket(total, items), MemberState(facts={"punches": {"coffee-card": before}}))
    assert quote.earn == total // 100 + bonus
    assert dict(quote.breakdown).get("punch:coffee-card", 0) == bonus


def test_punch_card_fills_under_the_minimum_spend_too():
    p = program(punch_cards=PUNCH, earning={"min_spend_minor": 1000})
    quote = p.quote(basket(300, [("latte", 1, 300, "coffee")]),
                    MemberState(facts={"punches": {"coffee-card": 9}}))
    assert quote.earn == 100

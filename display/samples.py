"""One example view for every moment the customer (or a technician) can see.

Used by the golden-image tests, ``kiosk screens`` and the display benchmark;
``EXTREMES`` are the worst cases the fitting tests add (longest name, largest
balance, longest reward).
"""

from __future__ import annotations

from display import views as v

COFFEE = v.RewardChoice("coffee", "Free coffee", 200, True)
CAKE = v.RewardChoice("cake", "Slice of cake", 450, False)

SCREENS: dict[str, v.View] = {
    "idle": v.Idle("Bean There"),
    "idle-offline": v.Idle("Bean There", offline=True),
    "reading": v.Reading(),
    "basket": v.BasketTotal(2500, "EUR", projected_points=25),
    "member": v.MemberRecognised("Ada Lovelace", 1240, "Gold", projected_earn=25,
                                 rewards=(COFFEE, CAKE), next_goal="Platinum", progress=0.62),
    "member-reward": v.MemberRecognised("Ada Lovelace", 1240, "Gold", rewards=(COFFEE, CAKE),
                                        selected=0, next_goal="Free coffee", progress=1.0),
    "member-offer": v.MemberRecognised("Grace Hopper", 860, "Silver", projected_earn=50,
                                       offers=("Double points today",), next_goal="Gold",
                                       progress=0.43),
    "member-cached": v.MemberRecognised("Chen Wei", 310, "Silver", pending=20,
                                        balance_is_cached=True, unverified=True),
    "reward-applied": v.RewardHeld("Free coffee", 200, 1040),
    "points-pending": v.PointsAdded(25, 0, 1265),
    "points-added": v.PointsAdded(25, 0, 1265, confirmed=True, tier="Gold"),
    "points-released": v.PointsAdded(25, 0, 1265, confirmed=True, tier="Gold",
                                     released=("Free coffee",)),
    "points-saved": v.PointsAdded(25, 200, 1065, saved_offline=True),
    "not-applied": v.NotApplied("unknown card"),
    "enrol-offer": v.EnrolOffer(),
    "enrolled": v.Enrolled(),
    "account-link": v.AccountLink("https://loyalty.example/me/kada.axBmiQ.GXIMltEcWrb_O81LwTaEyCJK1KY"),
    "offline": v.Offline(3),
    "reader-trouble": v.Trouble("reader", "Card not read, try again"),
    "network-trouble": v.Trouble("network", "Queue full: ask staff"),
    "error": v.ErrorMessage("This card is not accepted"),
    "technician": v.Technician("kiosk-1", "store-1/lane-1 10.0.4.17", "connected", 0,
                               ("nfc usb:072f:2200 ok", "qr hid ok")),
}

LONG_NAME = "Maximiliane Alexandra von Hohenzollern-Sigmaringen"
BIG = 2_147_483_647
EXTREMES: dict[str, v.View] = {
    "long-name": v.MemberRecognised(LONG_NAME, BIG, "Platinum Elite Founder", projected_earn=BIG,
                                    pending=BIG, balance_is_cached=True, unverified=True,
                                    rewards=(v.RewardChoice("x", "Weekend for two in " * 3, BIG,
                                                            True),),
                                    selected=0, next_goal=LONG_NAME, progress=0.999,
                                    offers=("Triple points on every pastry this weekend",)),
    "long-name-deva": v.MemberRecognised("श्रीनिवास रामानुजन अय्यंगार कुमारस्वामी", BIG, "स्वर्ण"),
    "long-name-telu": v.MemberRecognised("శ్రీనివాస రామానుజన్ అయ్యంగార్ కృష్ణమూర్తి", BIG, "బంగారం"),
    "big-basket": v.BasketTotal(99_999_999_999, "EUR", projected_points=BIG),
    "big-points": v.PointsAdded(BIG, BIG, BIG, saved_offline=True),
    "big-points-confirmed": v.PointsAdded(BIG, BIG, BIG, confirmed=True, tier="Platinum Elite Founder",
                                          released=("Weekend for two in Lisbon with breakfast",)),
    "long-not-applied": v.NotApplied("plain card UIDs are not accepted by this program"),
    "big-reward": v.RewardHeld("Weekend for two in Lisbon with breakfast", BIG, BIG),
    "big-offline": v.Offline(BIG),
    "long-error": v.ErrorMessage("The ledger refused this operation for a reason too long to show"),
    "long-program": v.Idle("The Very Long Name Of A Coffee Roastery Program", offline=True),
}

# (width, height, PIL mode, luma driver it stands for)
PANELS = ((128, 64, "1", "ssd1306"), (128, 32, "1", "ssd1306"), (128, 128, "RGB", "ssd1351"))

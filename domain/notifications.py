"""What a notification is about, in people's terms: the group its kind belongs to (what a person
turns e-mail on or off for) and the portal page its link opens for the reader's role."""

from __future__ import annotations

import re

from domain.enums import Role

# The groups a person chooses e-mail for, in the order the preferences page lists them.
EMAIL_GROUPS: dict[str, str] = {
    "applications": "Applications and invitations",
    "deliveries": "Deliveries and reviews",
    "money": "Money",
    "licenses": "Licenses",
    "messages": "Messages",
}
# Kinds that always go out by e-mail: they are about the account itself (a sign-up, someone
# using the address), and a person who turned e-mail off must still hear of them.
ALWAYS_EMAILED = frozenset({"account"})

_MONEY = ("payout", "refund", "funding", "payment", "invoice", "bank", "escrow", "statement")
_APPLICATIONS = ("application", "invitation", "counter_offer", "declined", "recruiting")


def group_of(kind: str) -> str | None:
    """The e-mail group of a notification kind; None for kinds always e-mailed. A kind no group
    names is about the work itself: deliveries and reviews."""
    if kind in ALWAYS_EMAILED:
        return None
    if kind == "message":
        return "messages"
    if kind.startswith("license"):
        return "licenses"
    if kind.startswith(_MONEY):
        return "money"
    if kind.startswith(_APPLICATIONS):
        return "applications"
    return "deliveries"


_BRAND = frozenset({Role.BRAND_ADMIN, Role.BRAND_MEMBER})
_ID = r"[0-9a-fA-F-]{36}"
# (pattern of a stored link, {role kind: portal path}); "{0}" is the id the link names.
_ROUTES: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (
    (
        re.compile(rf"/deliveries/({_ID})/messages"),
        {
            "brand": "/portal/deliveries/{0}#conversation",
            "creator": "/portal/deliveries/{0}#conversation",
            "ops": "/portal/deliveries/{0}/messages",
        },
    ),
    (
        re.compile(rf"/deliveries/({_ID})"),
        {"brand": "/portal/deliveries/{0}", "creator": "/portal/deliveries/{0}"},
    ),
    (re.compile(rf"/campaigns/({_ID})"), {"brand": "/portal/campaigns/{0}", "ops": "/portal/ops"}),
    (re.compile(rf"/creator/applications/({_ID})"), {"creator": "/portal/applications"}),
    (re.compile(r"/creator/payouts"), {"creator": "/portal/earnings", "ops": "/portal/ops"}),
    (
        re.compile(rf"/licenses/({_ID})"),
        {"brand": "/portal/licenses", "creator": "/portal/my-licenses", "ops": "/portal/ops"},
    ),
)


def _side(role: Role) -> str:
    if role in _BRAND:
        return "brand"
    return "creator" if role == Role.CREATOR else "ops"


def portal_link(link: str, role: Role) -> str | None:
    """The portal page a notification's stored link (`/deliveries/<id>`, `/campaigns/<id>`,
    ...) opens for a reader in `role`; a portal link as it is; None when that reader has no
    page for it."""
    if link == "/portal" or link.startswith("/portal/"):
        return link
    side = _side(role)
    for pattern, pages in _ROUTES:
        match = pattern.fullmatch(link)
        if match is not None:
            page = pages.get(side)
            return page.format(*match.groups()) if page is not None else None
    return None


def email_path(link: str) -> str:
    """The portal path an e-mail links to: a portal page as it is; an API path through
    `/portal/open`, which finds the page for the role the reader signs in with."""
    if not link or link == "/portal" or link.startswith("/portal/"):
        return link
    return "/portal/open" + (link if link.startswith("/") else "/" + link)

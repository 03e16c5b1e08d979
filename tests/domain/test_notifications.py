"""What a notification is about in people's terms: the e-mail group of its kind, and the
portal page its link opens for each role."""

from __future__ import annotations

import uuid

import pytest

from domain.enums import Role
from domain.notifications import email_path, group_of, portal_link

ID = str(uuid.UUID(int=7))


@pytest.mark.parametrize(
    ("kind", "group"),
    [
        ("application", "applications"),
        ("application_rejected", "applications"),
        ("invitation", "applications"),
        ("counter_offer", "applications"),
        ("declined", "applications"),
        ("draft_ready", "deliveries"),
        ("revision_requested", "deliveries"),
        ("campaign_completed", "deliveries"),
        ("payout_sent", "money"),
        ("refund_failed", "money"),
        ("funding_confirmed", "money"),
        ("license_granted", "licenses"),
        ("license_expiring", "licenses"),
        ("message", "messages"),
        ("account", None),  # always e-mailed: about the account itself
        ("something_new", "deliveries"),
    ],
)
def test_each_kind_belongs_to_the_group_a_person_turns_email_on_or_off_for(
    kind: str, group: str | None
) -> None:
    assert group_of(kind) == group


@pytest.mark.parametrize(
    ("link", "role", "page"),
    [
        (f"/deliveries/{ID}", Role.BRAND_ADMIN, f"/portal/deliveries/{ID}"),
        (f"/deliveries/{ID}", Role.CREATOR, f"/portal/deliveries/{ID}"),
        (f"/deliveries/{ID}", Role.OPS, None),
        (f"/deliveries/{ID}/messages", Role.BRAND_MEMBER, f"/portal/deliveries/{ID}#conversation"),
        (f"/deliveries/{ID}/messages", Role.OPS, f"/portal/deliveries/{ID}/messages"),
        (f"/campaigns/{ID}", Role.BRAND_MEMBER, f"/portal/campaigns/{ID}"),
        (f"/campaigns/{ID}", Role.OPS, "/portal/ops"),
        (f"/campaigns/{ID}", Role.CREATOR, None),
        (f"/creator/applications/{ID}", Role.CREATOR, "/portal/applications"),
        ("/creator/payouts", Role.CREATOR, "/portal/earnings"),
        (f"/licenses/{ID}", Role.BRAND_ADMIN, "/portal/licenses"),
        (f"/licenses/{ID}", Role.CREATOR, "/portal/my-licenses"),
        ("/portal/invitations/abc", Role.CREATOR, "/portal/invitations/abc"),
        ("", Role.CREATOR, None),
        ("https://evil.example/", Role.BRAND_ADMIN, None),
        (f"/deliveries/{ID}/../../x", Role.BRAND_ADMIN, None),
    ],
)
def test_a_link_opens_the_page_of_the_readers_role(link: str, role: Role, page: str | None) -> None:
    assert portal_link(link, role) == page


def test_an_email_links_through_the_portal() -> None:
    assert email_path(f"/licenses/{ID}") == f"/portal/open/licenses/{ID}"
    assert email_path("/portal/login") == "/portal/login"
    assert email_path("") == ""

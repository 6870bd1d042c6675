"""R1 over HTTP: seller-level enrollment, opt-out confirmed at once, effective 72 h later."""

from __future__ import annotations

from tests.integration.checks import assert_error, at, enrollment_of, shipment_of
from tests.support import T0, Market, expect


def opt_out(market: Market, seller_id: str) -> dict:
    return expect(
        market.client.post(
            f"/v1/sellers/{seller_id}/enrollment/opt-out", headers=market.sellers[seller_id]
        ),
        200,
    )


def participation_of_shipment_created_at(
    market: Market, seller_id: str, shipment_id: str, created_at: str
) -> dict:
    """Create and ship a shipment with a given ``created_at``; return its participation."""
    market.add_product(seller_id, f"SKU-{shipment_id}")
    market.add_shipment(seller_id, shipment_id, {f"SKU-{shipment_id}": 10}, created_at=created_at)
    market.ship(seller_id, shipment_id, created_at)
    return shipment_of(market, shipment_id)["participation"]


def test_r1_a_new_seller_is_not_enrolled(market: Market) -> None:
    seller = market.add_seller(enroll=False)

    assert enrollment_of(market, seller) == {
        "seller_id": seller,
        "state": "not_enrolled",
        "enrolled_at": None,
        "opt_out_confirmed_at": None,
        "opt_out_effective_for_shipments_created_from": None,
        "shrink": "0.05",
    }


def test_r1_enrolling_records_when_enrollment_started(market: Market) -> None:
    seller = market.add_seller(enroll=False)

    response = market.client.post(
        f"/v1/sellers/{seller}/enrollment", headers=market.sellers[seller]
    )

    view = expect(response, 200)
    assert (view["state"], view["enrolled_at"]) == ("enrolled", T0)
    assert enrollment_of(market, seller) == view


def test_r1_enrolling_an_enrolled_seller_is_a_conflict(market: Market) -> None:
    seller = market.add_seller()

    response = market.client.post(
        f"/v1/sellers/{seller}/enrollment", headers=market.sellers[seller]
    )

    assert_error(response, 409, "conflict")


def test_r1_opt_out_is_confirmed_at_once_and_effective_72h_later(market: Market) -> None:
    seller = market.add_seller()
    market.advance(5)

    view = opt_out(market, seller)

    assert view["state"] == "opt_out_requested"
    assert view["opt_out_confirmed_at"] == at(T0, hours=5)
    assert view["opt_out_effective_for_shipments_created_from"] == at(T0, hours=5 + 72)
    assert enrollment_of(market, seller) == view


def test_r1_opt_out_queues_the_confirmation_email_in_the_same_request(market: Market) -> None:
    seller = market.add_seller("Acme")

    opt_out(market, seller)

    [mail] = market.notifications("opt_out_confirmation")
    effective = at(T0, hours=72)
    assert mail["recipient"] == "acme@example.com"
    assert mail["state"] == "pending"
    assert mail["created_at"] == T0
    assert mail["payload"] == {
        "seller_id": seller,
        "opt_out_confirmed_at": T0,
        "effective_for_shipments_created_from": effective,
    }
    assert effective in mail["body"]


def test_r1_opting_out_twice_is_a_conflict_and_sends_one_email(market: Market) -> None:
    seller = market.add_seller()
    opt_out(market, seller)

    response = market.client.post(
        f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]
    )

    assert_error(response, 409, "conflict")
    assert len(market.notifications("opt_out_confirmation")) == 1


def test_r1_opt_out_of_a_seller_never_enrolled_is_a_conflict(market: Market) -> None:
    seller = market.add_seller(enroll=False)

    response = market.client.post(
        f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]
    )

    assert_error(response, 409, "conflict")
    assert market.notifications("opt_out_confirmation") == []


def test_r1_shipment_created_71h_after_opt_out_participates(market: Market) -> None:
    seller = market.add_seller()
    opt_out(market, seller)
    market.advance(73)

    participation = participation_of_shipment_created_at(market, seller, "SH71", at(T0, hours=71))

    assert participation == {"participates": True, "reasons": []}


def test_r1_shipment_created_exactly_72h_after_opt_out_does_not_participate(
    market: Market,
) -> None:
    seller = market.add_seller()
    opt_out(market, seller)
    market.advance(73)

    participation = participation_of_shipment_created_at(market, seller, "SH72", at(T0, hours=72))

    assert participation == {
        "participates": False,
        "reasons": ["seller_not_enrolled_when_created"],
    }


def test_r1_shipment_created_73h_after_opt_out_does_not_participate(market: Market) -> None:
    seller = market.add_seller()
    opt_out(market, seller)
    market.advance(73)

    participation = participation_of_shipment_created_at(market, seller, "SH73", at(T0, hours=73))

    assert participation == {
        "participates": False,
        "reasons": ["seller_not_enrolled_when_created"],
    }


def test_r1_state_becomes_opted_out_once_the_72h_have_passed(market: Market) -> None:
    seller = market.add_seller()
    opt_out(market, seller)

    market.advance(71.9)
    before = enrollment_of(market, seller)["state"]
    market.advance(0.1)
    after = enrollment_of(market, seller)["state"]

    assert (before, after) == ("opt_out_requested", "opted_out")


def test_r1_re_enrollment_covers_shipments_created_after_it_only(market: Market) -> None:
    seller = market.add_seller()
    opt_out(market, seller)
    market.advance(100)
    view = expect(
        market.client.post(f"/v1/sellers/{seller}/enrollment", headers=market.sellers[seller]),
        200,
    )
    market.advance(1)

    gap = participation_of_shipment_created_at(market, seller, "SHGAP", at(T0, hours=80))
    again = participation_of_shipment_created_at(market, seller, "SHNEW", at(T0, hours=100.5))

    assert view["state"] == "enrolled"
    assert view["enrolled_at"] == at(T0, hours=100)
    assert view["opt_out_effective_for_shipments_created_from"] is None
    assert gap == {"participates": False, "reasons": ["seller_not_enrolled_when_created"]}
    assert again == {"participates": True, "reasons": []}


def test_r1_shipment_created_before_the_seller_enrolled_does_not_participate(
    market: Market,
) -> None:
    market.advance(10)
    seller = market.add_seller()  # enrolled at T0 + 10 h

    participation = participation_of_shipment_created_at(market, seller, "SHOLD", at(T0, hours=9))

    assert participation == {
        "participates": False,
        "reasons": ["seller_not_enrolled_when_created"],
    }

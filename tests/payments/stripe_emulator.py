"""Test support: localstripe, bound to 127.0.0.1 with a private state file, extended with the
Stripe Connect endpoints it lacks (accounts, account links, transfers) in Stripe's documented
request and response shapes. Unlike localstripe it honours `Idempotency-Key` on those
endpoints: the same key answers the same object, as Stripe does for 24 hours.

Run as `python -m tests.payments.stripe_emulator --port P --state DIR`. Test-only code: the
product talks to it through the real `stripe` SDK, exactly as it talks to Stripe.
"""

from __future__ import annotations

import argparse
import pickle
import secrets
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from localstripe import resources, server

STATE: dict[str, Any] = {"accounts": {}, "transfers": {}, "idempotency": {}}


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _error(status: int, message: str, code: str, param: str | None = None) -> web.Response:
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message, "code": code}
    if param:
        error["param"] = param
    return web.json_response({"error": error}, status=status)


async def _form(request: web.Request) -> dict[str, Any]:
    data: dict[str, Any] = await server.get_post_data(request) or {}
    return data


def _idempotent(request: web.Request, data: dict[str, Any]) -> tuple[str | None, Any]:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None, None
    seen = STATE["idempotency"].get(key)
    if seen is not None and seen["body"] != data:
        return key, _error(
            400,
            "Keys for idempotent requests can only be used with the same parameters they were "
            "first used with.",
            "idempotency_error",
        )
    return key, seen


def _remember(key: str | None, data: dict[str, Any], answer: dict[str, Any]) -> None:
    if key is not None:
        STATE["idempotency"][key] = {"body": data, "answer": answer}


async def create_account(request: web.Request) -> web.StreamResponse:
    data = await _form(request)
    key, seen = _idempotent(request, data)
    if isinstance(seen, web.Response):
        return seen
    if seen is not None:
        return web.json_response(seen["answer"])
    if data.get("type") not in ("express", "standard", "custom"):
        return _error(400, "Invalid type", "parameter_invalid_empty", "type")
    account = {
        "id": _id("acct"),
        "object": "account",
        "type": data["type"],
        "country": data.get("country", "US"),
        "email": data.get("email"),
        "metadata": data.get("metadata", {}),
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "capabilities": {"transfers": "inactive"},
        "created": int(time.time()),
    }
    STATE["accounts"][account["id"]] = account
    _remember(key, data, account)
    return web.json_response(account)


async def retrieve_account(request: web.Request) -> web.StreamResponse:
    account = STATE["accounts"].get(request.match_info["id"])
    if account is None:
        return _error(404, "No such account", "resource_missing", "id")
    return web.json_response(account)


async def create_account_link(request: web.Request) -> web.StreamResponse:
    data = await _form(request)
    if data.get("account") not in STATE["accounts"]:
        return _error(400, "No such account", "resource_missing", "account")
    for name in ("refresh_url", "return_url", "type"):
        if not data.get(name):
            return _error(400, f"Missing required param: {name}.", "parameter_missing", name)
    return web.json_response(
        {
            "object": "account_link",
            "created": int(time.time()),
            "expires_at": int(time.time()) + 300,
            "url": f"https://connect.stripe.com/setup/e/{data['account']}/{secrets.token_hex(8)}",
        }
    )


async def create_transfer(request: web.Request) -> web.StreamResponse:
    data = await _form(request)
    key, seen = _idempotent(request, data)
    if isinstance(seen, web.Response):
        return seen
    if seen is not None:
        return web.json_response(seen["answer"])
    account = STATE["accounts"].get(data.get("destination"))
    if account is None:
        return _error(400, "No such destination", "resource_missing", "destination")
    if account["capabilities"]["transfers"] != "active":
        return _error(
            400,
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            "insufficient_capabilities_for_transfer",
            "destination",
        )
    try:
        amount = int(data.get("amount", 0))
    except ValueError:
        amount = 0
    if amount <= 0:
        return _error(400, "Invalid positive integer", "parameter_invalid_integer", "amount")
    transfer = {
        "id": _id("tr"),
        "object": "transfer",
        "amount": amount,
        "currency": str(data.get("currency", "")).lower(),
        "destination": account["id"],
        "transfer_group": data.get("transfer_group"),
        "metadata": data.get("metadata", {}),
        "reversed": False,
        "created": int(time.time()),
    }
    STATE["transfers"][transfer["id"]] = transfer
    _remember(key, data, transfer)
    return web.json_response(transfer)


async def list_transfers(request: web.Request) -> web.StreamResponse:
    items = list(STATE["transfers"].values())
    return web.json_response({"object": "list", "data": items, "has_more": False})


async def retrieve_transfer(request: web.Request) -> web.StreamResponse:
    transfer = STATE["transfers"].get(request.match_info["id"])
    if transfer is None:
        return _error(404, "No such transfer", "resource_missing", "id")
    return web.json_response(transfer)


async def enable_account(request: web.Request) -> web.StreamResponse:
    """Test control: the creator finished onboarding (Stripe would now send account.updated);
    `?transfers=inactive` leaves the account unable to receive transfers all the same."""
    account = STATE["accounts"].get(request.match_info["id"])
    if account is None:
        return _error(404, "No such account", "resource_missing", "id")
    account.update(
        details_submitted=True,
        charges_enabled=True,
        payouts_enabled=True,
        capabilities={"transfers": request.query.get("transfers", "active")},
    )
    return web.json_response(account)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args()
    state_file = args.state / "localstripe.pickle"

    def dump(store: Any) -> None:
        with state_file.open("wb") as f:
            pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)

    # Never the shared system temp file localstripe uses by default.
    resources.Store.dump_to_disk = dump
    app: web.Application = server.app
    app.router.add_post("/v1/accounts", create_account)
    app.router.add_get("/v1/accounts/{id}", retrieve_account)
    app.router.add_post("/v1/account_links", create_account_link)
    app.router.add_post("/v1/transfers", create_transfer)
    app.router.add_get("/v1/transfers", list_transfers)
    app.router.add_get("/v1/transfers/{id}", retrieve_transfer)
    app.router.add_post("/_test/accounts/{id}/enable", enable_account)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

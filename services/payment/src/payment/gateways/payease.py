"""PayEase (首信易支付) adapter, after its merchant interface: the payment form (v_md5info), the
server-to-server result notification (v_mac + v_md5money, answered `sent`), the single-order query
(order_ack_oid_list), refund submission (ref_ack_submit) with its refund list (ref_ack_oid_list),
and the day list of orders used as statement.

Public documentation of PayEase is thin; where it is silent we keep its documented shape:
- every field is HMAC-MD5 over a fixed concatenation with the merchant key, bytes in GBK;
- PayEase gives no separate transaction number in the notification: its order number `v_oid`
  (`yyyymmdd-<mid>-<serial>`, unique per merchant, payable once) is the transaction id;
- refunds carry no request number, so idempotency is ours: the request number travels in
  `v_refreason` and the refund list is read before submitting, so a refund is never sent twice;
- the notification is verified three ways: v_mac and v_md5money (the shared MAC key) and v_sign,
  PayEase's RSA signature, against PayEase's configured public key (see signing.py) — the MAC key
  is the merchant's too, only v_sign proves the notice came from PayEase;
- the query and day list answer XML whose per-order RSA `sign` we do not verify yet; they are
  trusted by the channel (HTTPS to the configured host), which we ourselves call.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from cet_shared.clock import to_shanghai
from payment.gateways.base import (
    GatewayError,
    NotifiedPayment,
    Redirect,
    RefundOutcome,
    StatementLine,
    TradeState,
    VerifiedNotification,
)
from payment.gateways.signing import hmac_md5, hmac_md5_equal, payease_rsa_verify, payease_sign_content

_DECLARATION = re.compile(rb'^\s*<\?xml[^>]*encoding="([A-Za-z0-9_-]+)"[^>]*\?>')
SEPARATOR = "|_|"  # several orders in one notification
RMB = "0"  # v_moneytype: 0 人民币
PAID, UNPAID, REFUSED = "1", "2", "3"


def parse_form(body: bytes, charset: str) -> dict[str, str]:
    return dict(parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding=charset, errors="strict"))


def parse_xml(raw: bytes) -> ElementTree.Element:
    """PayEase answers XML in GBK, which expat cannot read: decode by the declaration first."""
    declared = _DECLARATION.match(raw)
    charset = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        text = raw[declared.end() if declared else 0 :].decode(charset)
        # S314: expat (≥ 2.4) refuses entity expansion attacks and the body is bounded by the notify size limit.
        return ElementTree.fromstring(text)  # noqa: S314
    except (LookupError, UnicodeDecodeError, ElementTree.ParseError) as exc:
        raise GatewayError(f"payease: unreadable answer: {exc}") from exc


def parse_orders(xml_text: bytes) -> list[dict[str, str]]:
    root = parse_xml(xml_text)
    status = root.findtext("messagehead/status")
    if status not in ("0", None):
        raise GatewayError(f"payease: status {status} {root.findtext('messagehead/statusdesc')}")
    return [{child.tag: (child.text or "") for child in order} for order in root.iter("order")]


class PayEaseAdapter:
    name = "payease"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        pay_url: str,
        api_base_url: str,
        merchant_id: str,
        key: str,
        public_key: rsa.RSAPublicKey,
        return_url: str,
        charset: str = "gbk",
    ) -> None:
        self._http = http
        self._pay_url = pay_url
        self._api = api_base_url.rstrip("/")
        self.merchant_id = merchant_id
        self._key = key
        self._public_key = public_key
        self._return_url = return_url
        self._charset = charset

    def _mac(self, text: str) -> str:
        return hmac_md5(self._key, text, self._charset)

    def checkout(self, *, out_trade_no: str, amount_yuan: str, subject: str, bank: str | None, expires_at: datetime, now: datetime) -> Redirect:
        mid = self.merchant_id
        fields = {
            "v_mid": mid,
            "v_oid": out_trade_no,
            # Receiver fields are for goods; PayEase advises the merchant id here (and no personal data).
            "v_rcvname": mid,
            "v_rcvaddr": mid,
            "v_rcvtel": mid,
            "v_rcvpost": "100000",
            "v_amount": amount_yuan,
            "v_ymd": to_shanghai(now).strftime("%Y%m%d"),
            "v_orderstatus": "1",
            "v_ordername": mid,
            "v_moneytype": RMB,
            "v_url": self._return_url,
            "v_pmode": bank or "",
        }
        fields["v_md5info"] = self._mac(
            fields["v_moneytype"] + fields["v_ymd"] + fields["v_amount"] + fields["v_rcvname"] + fields["v_oid"] + fields["v_mid"] + fields["v_url"]
        )
        return Redirect(method="POST", url=self._pay_url, fields=fields, charset=self._charset)

    def verify_notification(self, body: bytes) -> VerifiedNotification:
        try:
            f = parse_form(body, self._charset)
        except (UnicodeDecodeError, ValueError):
            return VerifiedNotification(False, "undecodable body")
        names = ("v_oid", "v_pmode", "v_pstatus", "v_pstring", "v_count", "v_amount", "v_moneytype", "v_mac", "v_md5money", "v_sign")
        if any(n not in f for n in names):
            return VerifiedNotification(False, "missing fields")
        mac_ok = hmac_md5_equal(self._key, f["v_oid"] + f["v_pmode"] + f["v_pstatus"] + f["v_pstring"] + f["v_count"], f["v_mac"], self._charset)
        money_ok = hmac_md5_equal(self._key, f["v_amount"] + f["v_moneytype"], f["v_md5money"], self._charset)
        if not (mac_ok and money_ok):
            return VerifiedNotification(False, "bad signature")
        if not payease_rsa_verify(self._public_key, payease_sign_content(f), f["v_sign"], self._charset):
            return VerifiedNotification(False, "bad v_sign (RSA)")
        oids, statuses = f["v_oid"].split(SEPARATOR), f["v_pstatus"].split(SEPARATOR)
        amounts, currencies = f["v_amount"].split(SEPARATOR), f["v_moneytype"].split(SEPARATOR)
        # isdigit() alone also accepts "①" or "²", which int() refuses.
        if not (f["v_count"].isascii() and f["v_count"].isdigit()) or not len(oids) == len(statuses) == len(amounts) == len(currencies) == int(f["v_count"]):
            return VerifiedNotification(False, "v_count does not match the orders")
        payments = [
            NotifiedPayment(
                out_trade_no=oid,
                transaction_id=oid,
                amount_yuan=amount,
                succeeded=status == PAID,
                status=status,
                merchant_ok=oid.split("-")[1:2] == [self.merchant_id],
                currency_ok=currency == RMB,
            )
            for oid, status, amount, currency in zip(oids, statuses, amounts, currencies, strict=True)
        ]
        return VerifiedNotification(True, "verified", payments)

    def answer(self, *, stop_retrying: bool) -> str:
        return "sent" if stop_retrying else "error"

    async def _post(self, path: str, fields: dict[str, str]) -> bytes:
        try:
            response = await self._http.post(f"{self._api}{path}", data=fields)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise GatewayError(f"payease {path}: {exc!r}") from exc
        return response.content

    async def query(self, out_trade_no: str) -> TradeState:
        mid = self.merchant_id
        body = await self._post("/merchant/order/order_ack_oid_list.jsp", {"v_mid": mid, "v_oid": out_trade_no, "v_mac": self._mac(mid + out_trade_no)})
        orders = [o for o in parse_orders(body) if o.get("oid") == out_trade_no]
        if not orders:
            return TradeState("not_found", out_trade_no)
        order = orders[0]
        status = {PAID: "paid", UNPAID: "unpaid"}.get(order.get("pstatus", ""), "closed")
        return TradeState(status, out_trade_no, transaction_id=out_trade_no, amount_yuan=order.get("amount"))

    async def _refunds(self, out_trade_no: str) -> list[dict[str, str]]:
        mid = self.merchant_id
        body = await self._post("/merchant/refund/ref_ack_oid_list_utf8.jsp", {"v_mid": mid, "v_oid": out_trade_no, "v_mac": self._mac(mid + out_trade_no)})
        root = parse_xml(body)
        return [{c.tag: (c.text or "") for c in refund} for refund in root.iter("refund")]

    async def refund(self, *, out_trade_no: str, transaction_id: str, amount_yuan: str, request_no: str, reason: str) -> RefundOutcome:
        if any(request_no in r.get("refreason", "") for r in await self._refunds(out_trade_no)):
            return RefundOutcome(True, False, "already refunded")
        mid, operator = self.merchant_id, "cet"
        fields = {
            "v_mid": mid,
            "v_oid": out_trade_no,
            "v_refamount": amount_yuan,
            "v_refreason": f"{reason} {request_no}",
            "v_refoprt": operator,
            "v_mac": self._mac(mid + out_trade_no + amount_yuan + operator),
        }
        body = await self._post("/merchant/refund/ref_ack_submit.jsp", fields)
        root = parse_xml(body)
        if root.findtext("status") != "0":
            raise GatewayError(f"payease refund: {root.findtext('status')} {root.findtext('statusdesc')}")
        return RefundOutcome(True, True, root.findtext("refid") or "")

    async def statement(self, day: date) -> list[StatementLine]:
        mid, ymd = self.merchant_id, day.strftime("%Y%m%d")
        body = await self._post("/merchant/order/order_ack_day_list.jsp", {"v_mid": mid, "v_ymd": ymd, "v_mac": self._mac(mid + ymd)})
        return [
            StatementLine(out_trade_no=o["oid"], transaction_id=o["oid"], amount_yuan=o.get("amount", ""), kind="trade")
            for o in parse_orders(body)
            if o.get("pstatus") == PAID
        ]

"""The signature schemes the adapters and the sandbox share."""

from __future__ import annotations

import io
import zipfile

from payment.gateways.alipay import parse_trade_bill, response_node
from payment.gateways.payease import parse_orders
from payment.gateways.signing import (
    alipay_sign_content,
    generate_rsa_key,
    hmac_md5,
    hmac_md5_equal,
    rsa2_sign,
    rsa2_verify,
)


def test_alipay_sign_content_sorts_and_leaves_out_sign_sign_type_and_empty_values():
    params = {"b": "2", "a": "1", "sign": "x", "sign_type": "RSA2", "empty": "", "subject": "报名费 & 考试"}
    assert alipay_sign_content(params) == "a=1&b=2&subject=报名费 & 考试"


def test_rsa2_signatures_verify_and_any_change_breaks_them():
    key = generate_rsa_key()
    content = "out_trade_no=CET1&total_amount=0.02"
    signature = rsa2_sign(key, content)
    assert rsa2_verify(key.public_key(), content, signature)
    assert not rsa2_verify(key.public_key(), content.replace("0.02", "0.01"), signature)
    assert not rsa2_verify(generate_rsa_key().public_key(), content, signature)
    assert not rsa2_verify(key.public_key(), content, "not base64!")


def test_hmac_md5_is_rfc_2104():
    assert hmac_md5("Jefe", "what do ya want for nothing?") == "750c783e6ab0b503eaa86e310a5db738"
    assert hmac_md5_equal("k", "中国银行", hmac_md5("k", "中国银行", "gbk"), "gbk")
    assert hmac_md5("k", "中国银行", "gbk") != hmac_md5("k", "中国银行", "utf-8"), "PayEase signs GBK bytes"
    assert not hmac_md5_equal("k", "\u20ac\ufffd", "00", "gbk")


def test_alipay_response_signature_covers_the_raw_node_text():
    raw = '{"alipay_trade_query_response":{"code":"10000","total_amount":"0.02"},"sign":"abc"}'
    node, text, sign = response_node(raw, "alipay_trade_query_response")
    assert node["total_amount"] == "0.02" and text == '{"code":"10000","total_amount":"0.02"}' and sign == "abc"


def test_alipay_trade_bill_is_read_from_its_gbk_zip():
    csv_text = (
        "#支付宝业务明细查询\n#-----业务明细列表----\n"
        "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,订单金额（元）\n"
        "2026112722001\t,CET1\t,交易,报名费,2026-11-27 10:00:00,2026-11-27 10:00:05,0.02\n"
        "2026112722001\t,CET1\t,退款,报名费,2026-11-27 10:00:00,2026-11-27 11:00:00,-0.02\n"
        "#-----业务明细列表结束----\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("2088_20261127_业务明细.csv", csv_text.encode("gbk"))
    trade, refund = parse_trade_bill(buffer.getvalue())
    assert (trade.out_trade_no, trade.transaction_id, trade.amount_yuan, trade.kind) == ("CET1", "2026112722001", "0.02", "trade")
    assert refund.kind == "refund" and refund.amount_yuan == "0.02"


def test_payease_xml_in_gbk_is_read():
    body = '<?xml version="1.0" encoding="GBK"?><pickorder><messagehead><status>0</status></messagehead><messagebody><order><oid>20261127-8888-A</oid><pmode>中国银行</pmode><pstatus>1</pstatus><amount>0.02</amount></order></messagebody></pickorder>'
    [order] = parse_orders(body.encode("gbk"))
    assert order["pmode"] == "中国银行" and order["pstatus"] == "1" and order["amount"] == "0.02"

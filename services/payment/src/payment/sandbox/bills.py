"""Alipay's trade bill as its download gives it: a zip of GBK CSVs ('#' lines are titles and totals)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta

from cet_shared.clock import to_shanghai
from payment.gateways.alipay import beijing_time


def alipay_trade_bill(seller_id: str, trades: list, day: date, now: datetime) -> bytes:
    header = [
        "支付宝交易号",
        "商户订单号",
        "业务类型",
        "商品名称",
        "创建时间",
        "完成时间",
        "门店编号",
        "门店名称",
        "操作员",
        "终端号",
        "对方账户",
        "订单金额（元）",
        "商家实收（元）",
        "支付宝红包（元）",
        "集分宝（元）",
        "支付宝优惠（元）",
        "商家优惠（元）",
        "券核销金额（元）",
        "券名称",
        "商家红包消费金额（元）",
        "卡消费金额（元）",
        "退款批次号/请求号",
        "服务费（元）",
        "分润（元）",
        "备注",
    ]
    out = io.StringIO()
    out.write("#支付宝业务明细查询\n")
    out.write(f"#账号：[{seller_id}0156]\n")
    out.write(f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{day + timedelta(days=1):%Y年%m月%d日} 00:00:00]\n")
    out.write("#-----------------------------------------业务明细列表----------------------------------------\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for t in trades:
        amount = t.statement_amount or t.amount
        writer.writerow(
            [
                t.trade_no + "\t",
                t.out_trade_no + "\t",
                "交易",
                t.subject,
                beijing_time(t.created_at),
                beijing_time(t.paid_at),
                "",
                "",
                "",
                "",
                "cet***@sandbox.test",
                amount,
                amount,
                "0.00",
                "0.00",
                "0.00",
                "0.00",
                "0.00",
                "",
                "0.00",
                "0.00",
                "",
                "0.00",
                "0.00",
                "",
            ]
        )
        count += 1
    out.write("#-----------------------------------------业务明细列表结束------------------------------------\n")
    out.write(f"#交易合计：{count}笔\n")
    out.write(f"#导出时间：[{to_shanghai(now):%Y年%m月%d日 %H:%M:%S}]\n")
    stem = f"{seller_id}0156_{day:%Y%m%d}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"{stem}_业务明细.csv", out.getvalue().encode("gbk"))
        bundle.writestr(f"{stem}_业务明细(汇总).csv", f"#支付宝业务汇总查询\n交易笔数,{count}\n".encode("gbk"))
    return buffer.getvalue()

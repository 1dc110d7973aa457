"""支付 — the CET payment service: orders, Alipay and PayEase checkout and notifications, refunds,
reconciliation; and `payment.sandbox`, a local emulator of both gateways."""

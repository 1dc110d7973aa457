"""A local emulator of Alipay and PayEase for e2e tests and the demo (`payment-sandbox`, port 8090).

It signs exactly as the real gateways do, with test keys made at run time; the payment service
tells it apart from the real ones only by configuration. State is kept in memory: a run's keys
are new on every start, so trades signed under an earlier run could not be verified anyway, and
an emulator that forgets on restart needs no database of its own to set up or clean.
"""

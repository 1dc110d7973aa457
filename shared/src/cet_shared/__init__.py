"""Common package of the CET registration services.

Each module does one thing that two or more services need: settings, the async database
and unit of work, the transactional outbox and inbox, event contracts, the Kafka broker
factory, problem+json errors, JWT verification, the sealed captcha, rate limits, the clock.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from cet_shared.settings import ServiceSettings


class EligibilitySettings(ServiceSettings):
    service_name: str = "eligibility"
    database_url: str = Field(validation_alias="DATABASE_URL_ELIGIBILITY")
    # E2: the agreement the candidate accepts; a new version must be accepted again.
    agreement_version: str = "2017-2"
    # E3: qualification queries per account, per queried ID number, and per client address in a
    # window. The address ceiling is high: a school's computer room shares one NAT address.
    queries_per_account: int = 20
    queries_per_target: int = 20
    queries_per_client: int = 600
    query_window: timedelta = timedelta(minutes=10)
    # E10: resubmissions of a rejected CET6 review application per account in a window.
    review_resubmissions: int = 3
    review_resubmission_window: timedelta = timedelta(days=1)
    # E11: account recovery requests per recovered ID number and, a high ceiling, per client address.
    recovery_requests_per_target: int = 5
    recovery_requests_per_client: int = 300
    recovery_window: timedelta = timedelta(minutes=15)
    # Registry and score files can be larger than any other request body: millions of rows stream
    # to staging (the gateway allows this size on /registry/ only).
    max_import_bytes: int = 4_000_000_000
    # Import jobs: lines checked per statement, rows merged per transaction (short, so candidates
    # keep working), how long a worker's lease on a job lasts, how often the worker looks.
    import_check_batch: int = 50_000
    import_merge_batch: int = 10_000
    import_lease: timedelta = timedelta(minutes=2)
    import_poll_every: timedelta = timedelta(seconds=2)
    import_statement_timeout: float = 600.0

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
    # Registry files can be larger than any other request body.
    max_import_bytes: int = 20_000_000

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from cet_shared.settings import ServiceSettings


class EnrolmentSettings(ServiceSettings):
    service_name: str = "enrolment"
    database_url: str = Field(validation_alias="DATABASE_URL_ENROLMENT")
    # N8: an unpaid subject is deleted this long after it was enrolled (24 h in the guide).
    unpaid_lifetime: timedelta = Field(default=timedelta(hours=24), validation_alias="ENROLMENT_UNPAID_LIFETIME")
    expiry_sweep_interval: timedelta = timedelta(seconds=5)
    expiry_batch_size: int = 200
    # E9: a bound registration with no active subject is released after this long.
    empty_registration_lifetime: timedelta = timedelta(hours=24)
    release_sweep_every: timedelta = timedelta(minutes=1)
    release_batch_size: int = 200
    # N13: seats per examination room when the arrangement fills rooms.
    seats_per_room: int = Field(default=30, ge=1, le=99)
    # N13 at scale: subjects arranged per short transaction, offerings frozen per statement, how often the worker looks for a job,
    # and how long a worker that stopped renewing its lease keeps a job from the others.
    arrangement_batch: int = Field(default=10_000, ge=1)
    arrangement_freeze_offerings: int = Field(default=20, ge=1)
    arrangement_every: timedelta = timedelta(seconds=5)
    arrangement_lease: timedelta = timedelta(minutes=2)

"""`Strict`, the one base of every service's request bodies (issue 16: it was copied four times,
and payment's copy let NUL through)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cet_shared.strict import Strict


class Body(Strict):
    name: str
    note: str | None = None


def test_text_with_nul_is_refused_as_bad_input() -> None:
    with pytest.raises(ValidationError, match="包含无法识别的字符"):
        Body(name="廖晓儿\x00")
    with pytest.raises(ValidationError, match="包含无法识别的字符"):
        Body(name="廖晓儿", note="a\x00b")


def test_unknown_fields_are_refused_and_clean_text_passes() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Body.model_validate({"name": "廖晓儿", "admin": True})
    assert Body(name="廖晓儿", note="二〇一七").name == "廖晓儿"


def test_every_service_builds_its_request_bodies_on_the_shared_base() -> None:
    from eligibility.api.schemas import Identity
    from enrolment.service.sessions import SessionSpec
    from passport.api.schemas import PasswordResetRequest
    from payment.api.schemas import OrderRequest

    for model in (Identity, SessionSpec, PasswordResetRequest, OrderRequest):
        assert issubclass(model, Strict), model

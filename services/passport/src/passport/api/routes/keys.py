from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from passport.api.deps import PassportDep

router = APIRouter(tags=["keys"])


class PublicKey(BaseModel):
    model_config = ConfigDict(extra="allow")

    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"] = "EdDSA"
    use: Literal["sig"] = "sig"


class KeySet(BaseModel):
    keys: list[PublicKey]


@router.get("/.well-known/jwks.json", response_model=KeySet, summary="验证访问令牌的公钥（JWKS）")
async def jwks(ctx: PassportDep, response: Response) -> dict:
    """各服务离线验证访问令牌所用的公钥。"""
    response.headers["Cache-Control"] = "public, max-age=300"
    return ctx.signer.jwks()

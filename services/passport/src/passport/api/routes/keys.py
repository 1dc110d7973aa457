from __future__ import annotations

from fastapi import APIRouter, Response

from passport.api.deps import PassportDep

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json")
async def jwks(ctx: PassportDep, response: Response) -> dict:
    """The public keys every service verifies access tokens with."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return ctx.signer.jwks()

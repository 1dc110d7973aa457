from __future__ import annotations

import asyncio
import base64

from captcha.image import ImageCaptcha
from fastapi import APIRouter, Response

from cet_shared.captcha import CaptchaSeal
from passport.api.deps import PassportDep
from passport.api.schemas import CaptchaChallenge

router = APIRouter(tags=["captcha"])
_images = ImageCaptcha(width=160, height=60)


@router.get("/captcha", response_model=CaptchaChallenge, summary="获取图片验证码")
async def new_captcha(ctx: PassportDep, response: Response) -> CaptchaChallenge:
    """P3：图片验证码；答案只以密封形式随令牌传递。"""
    answer = CaptchaSeal.new_answer()
    png = await asyncio.to_thread(lambda: _images.generate(answer, format="png").getvalue())
    response.headers["Cache-Control"] = "no-store"
    return CaptchaChallenge(
        captcha_token=ctx.captcha.seal(answer, clock=ctx.clock, ttl=ctx.settings.captcha_lifetime),
        image="data:image/png;base64," + base64.b64encode(png).decode(),
        expires_in=int(ctx.settings.captcha_lifetime.total_seconds()),
    )

"""通行证 (passport): accounts, captcha, password and email recovery, access tokens."""

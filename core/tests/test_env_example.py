import re

from django.conf import settings


def test_every_setting_read_from_the_environment_is_documented():
    source = (settings.BASE_DIR / "config" / "settings.py").read_text()
    names = set(re.findall(r'env\.(?:str|int|bool|list|path|float)\(\s*"([A-Z0-9_]+)"', source))
    names |= {f"{p}_CLIENT_{k}" for p in ("GOOGLE", "GITHUB") for k in ("ID", "SECRET")}
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (settings.BASE_DIR / ".env.example").read_text(), re.M))
    assert names - documented == set()

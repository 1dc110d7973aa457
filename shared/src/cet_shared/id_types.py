"""ID document types accepted by the CET registration (E1). 军官证 is refused with its own message."""

from __future__ import annotations

from enum import StrEnum

from cet_shared.problems import Problem


class IdType(StrEnum):
    RESIDENT_ID_CARD = "resident_id_card"
    TAIWAN_PASS = "taiwan_pass"
    HK_MACAO_PASS = "hk_macao_pass"
    PASSPORT = "passport"
    HONG_KONG_ID = "hong_kong_id"
    MACAO_ID = "macao_id"

    @property
    def label(self) -> str:
        return ID_TYPE_LABELS[self]


ID_TYPE_LABELS: dict[IdType, str] = {
    IdType.RESIDENT_ID_CARD: "中华人民共和国居民身份证",
    IdType.TAIWAN_PASS: "台湾居民往来大陆通行证",
    IdType.HK_MACAO_PASS: "港澳居民来往内地通行证",
    IdType.PASSPORT: "护照",
    IdType.HONG_KONG_ID: "香港身份证",
    IdType.MACAO_ID: "澳门身份证",
}

# What clients may send for 军官证; answered with a clear refusal rather than "invalid value".
MILITARY_OFFICER_ID = {"military_officer_id", "军官证"}


def parse_id_type(value: str) -> IdType:
    if value in MILITARY_OFFICER_ID:
        raise Problem(422, "id_type_not_supported", "暂不支持军官证报名，请使用居民身份证等其他有效证件")
    try:
        return IdType(value)
    except ValueError:
        for id_type, label in ID_TYPE_LABELS.items():
            if value == label:
                return id_type
        raise Problem(422, "id_type_invalid", "证件类型不正确") from None


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id_checksum_ok(number: str) -> bool:
    """GB 11643-1999: 17 digits and a check character (0-9 or X)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def check_resident_id(id_type: IdType | str, number: str) -> None:
    """A resident ID of the right shape whose check character is wrong is a typo, not a candidate
    the registry lacks: it gets its own answer instead of "no record"."""
    number = number.strip()
    if id_type == IdType.RESIDENT_ID_CARD and len(number) == 18 and number[:17].isdigit() and not resident_id_checksum_ok(number):
        raise Problem(422, "id_number_invalid", "身份证号码校验位错误")

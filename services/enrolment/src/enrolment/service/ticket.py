"""The admission ticket (N13): what it shows, and its PDF (`ticket_pdf`, laid out like a CET
ticket with the Chinese font embedded). The PDF's libraries (reportlab, fontTools: about 25 MB
resident) are imported on the first ticket, not by every api process that never prints one."""

from __future__ import annotations

from dataclasses import dataclass

NOTES = (
    "考生须凭本准考证和有效身份证件参加考试，二者缺一不可。",
    "考生须在开考前到达考点，按考场号、座位号入座，将准考证和有效身份证件放在桌面左上角备查。",
    "笔试开考15分钟后不得入场；考试期间不得提前交卷、退场。",
    "严禁携带手机、智能手表等各类通讯工具和电子设备进入考场。",
    "自行打印准考证“考生须知”中有关条形码及题目作答顺序等内容仅针对英语四级和英语六级笔试科目。",
    "请妥善保管准考证，考试结束后凭准考证号查询成绩。",
)


@dataclass(frozen=True)
class Ticket:
    title: str
    exam_name: str
    ticket_number: str
    name: str
    id_number: str
    subject: str
    when: str
    site: str
    campus: str
    room: str
    seat: str
    printed_at: str

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("准考证号", self.ticket_number),
            ("姓名", self.name),
            ("证件号码", self.id_number),
            ("考试科目", self.subject),
            ("考试时间", self.when),
            ("考点", self.site),
            ("考点校区", self.campus),
            ("考场号", self.room),
            ("座位号", self.seat),
        ]


def render(ticket: Ticket) -> bytes:
    """The ticket as a one-page A4 PDF. CPU-bound (font subsetting): call it in a worker thread."""
    from enrolment.service import ticket_pdf

    return ticket_pdf.render(ticket)


def numbered(notes: tuple[str, ...]) -> list[str]:
    return [f"{number}. {note}" for number, note in enumerate(notes, 1)]

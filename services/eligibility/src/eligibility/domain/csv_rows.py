"""What a registry or score file's cells and errors are (E13, E10). Pure."""

from __future__ import annotations

from dataclasses import dataclass

# The words a yes/no cell may hold (campus_offers_cet6, cet6_barred), any case.
YES_WORDS = {"1", "true", "yes", "y", "是"}
NO_WORDS = {"", "0", "false", "no", "n", "否"}


@dataclass(frozen=True)
class RowError:
    """An error of the file: its line (header = 1), the column ("" for the whole line), the reason."""

    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "message": self.message}

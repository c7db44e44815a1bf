"""The sheet `Mitarbeitende` as intake, rules and jobs need it: who is who, and who leads."""

from __future__ import annotations

from dataclasses import dataclass

from jugendhaus_mail.workbook.model import Row

LEADER_ROLES = ("Teamleitung", "Sachgebietsleitung")


@dataclass(frozen=True)
class Member:
    name: str
    email: str
    role: str
    rechtskreis: str
    phone: str


class Staff:
    """Active staff with an e-mail address; an empty `Aktiv` counts as active."""

    def __init__(self, rows: list[Row]) -> None:
        self.members = [
            Member(
                name=str(row.get("name") or "").strip(),
                email=str(row.get("email") or "").strip(),
                role=str(row.get("role") or "").strip(),
                rechtskreis=str(row.get("rechtskreis") or "").strip(),
                phone=str(row.get("phone") or "").strip(),
            )
            for row in rows
            if str(row.get("active") or "").strip().casefold() != "nein" and row.get("email")
        ]

    def by_name(self, name: str) -> Member | None:
        wanted = name.strip().casefold()
        return next((m for m in self.members if wanted and m.name.casefold() == wanted), None)

    def by_role(self, *roles: str) -> list[Member]:
        return [m for m in self.members if m.role in roles]

    def leaders(self) -> list[Member]:
        return self.by_role(*LEADER_ROLES)

"""Staff accounts with a display name and roles, and what each role may do.

``KAT_STAFF_USERS`` holds comma-separated accounts::

    name:<password hash>[:<role>+<role>...[:<display name>]]

e.g. ``jo:pbkdf2_sha256$...:clinician:Jo Rivera,desk:pbkdf2_sha256$...:front_desk``
(make a hash with ``python -m staff_inbox.hash_password``). An account written as
before, without roles, is a ``clinician``: what every account could do until roles
existed. Roles (docs/staff-inbox.md, who can see what):

* ``clinician``: tickets, their contact details, replies, resolving;
* ``front_desk``: tickets, replies and resolving; a ticket's contact details only when
  the patient consented to be called back (the contact form keeps details only then);
* ``reviewer``: the clinic's insights and the review queue, never tickets;
* ``admin``: everything, and the audit trail.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Mapping, Optional

ROLES = ("clinician", "front_desk", "reviewer", "admin")
PERMISSIONS: Dict[str, FrozenSet[str]] = {
    "tickets": frozenset({"clinician", "front_desk", "admin"}),
    "reply": frozenset({"clinician", "front_desk", "admin"}),
    "contact": frozenset({"clinician", "admin"}),
    "consented_contact": frozenset({"clinician", "front_desk", "admin"}),
    "insights": frozenset({"reviewer", "admin"}),
    "audit": frozenset({"admin"}),
}
LEGACY_ROLES = frozenset({"clinician"})
# Machines with KAT_STAFF_API_TOKEN (e.g. a ticketing integration) act as a clinician.
API_ACCOUNT = "api"


class AccountError(ValueError):
    """An account entry that cannot be read (unknown role, no hash)."""


@dataclass(frozen=True)
class Account:
    name: str
    password_hash: str = field(repr=False)
    roles: FrozenSet[str] = LEGACY_ROLES
    display_name: str = ""

    def can(self, permission: str) -> bool:
        return bool(self.roles & PERMISSIONS[permission])

    @property
    def shown_as(self) -> str:
        return self.display_name or self.name


def parse_accounts(value: str) -> Dict[str, Account]:
    accounts: Dict[str, Account] = {}
    for entry in value.split(","):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":", 3)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise AccountError("a staff account needs name:<password hash>")
        roles = LEGACY_ROLES
        if len(parts) > 2 and parts[2]:
            roles = frozenset(r.strip() for r in parts[2].split("+") if r.strip())
            unknown = roles - set(ROLES)
            if unknown:
                raise AccountError(
                    f"unknown role(s) {sorted(unknown)} for {parts[0]!r}; known: {ROLES}"
                )
        display = parts[3].strip() if len(parts) > 3 else ""
        accounts[parts[0]] = Account(parts[0], parts[1], roles, display)
    return accounts


def accounts_from_env(environ: Optional[Mapping[str, str]] = None) -> Dict[str, Account]:
    env = os.environ if environ is None else environ
    return parse_accounts(env.get("KAT_STAFF_USERS", ""))


def api_account() -> Account:
    return Account(API_ACCOUNT, "", LEGACY_ROLES, "API")

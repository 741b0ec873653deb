"""Print a password hash for KAT_STAFF_USERS: python -m staff_inbox.hash_password NAME"""

from __future__ import annotations

import getpass
import sys

from staff_inbox.auth import hash_password


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else input("staff user name: ")
    password = getpass.getpass("password: ")
    print(f"{name}:{hash_password(password)}")


if __name__ == "__main__":
    main()

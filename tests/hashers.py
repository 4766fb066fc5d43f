from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 with tiny costs, so that the many users the tests create take no time. Tests only."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1

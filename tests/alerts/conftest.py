from tests.mail.conftest import smtp

__all__ = ["smtp"]

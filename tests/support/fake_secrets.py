"""Recognisable fake credentials for the scrubbing tests, in one place.

They have the shapes the scrubber must catch (a Z.AI `<32 hex>.<16 alnum>` key, an `sk-…` key), so
this file is the one place a secret scanner should find them; every test imports them from here.
None of them was ever valid anywhere.
"""

ZAI_KEY = "0123456789abcdef0123456789abcdef.AbCdEfGh12345678"
ZAI_KEY_UNREGISTERED = "0123456789abcdef0123456789abcdef.AbCdEfGhIjKlMnOp"
SK_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
ZAI_KEY_UPPER = "0123456789abcdef0123456789abcdef.ABCDEFGHIJKLMNOP"

"""Which Anthropic-format upstream signed a thinking block, so that a conversation that moves between them (a
fallback, `/model`, a subagent) never sends one provider's signed thinking to another: Anthropic answers 400 to
a signature it did not make (DeepSeek's, Kimi's or z.ai's Anthropic endpoints sign their own).

Signatures are noted as the passthrough reads them (stream and whole answers), in memory and bounded, by the
upstream's endpoint URL (two servers on one host are two signers; two URLs in front of the same signer, say a
gateway and Anthropic itself, are two as well: their thinking is left out on a switch, which costs the thinking,
never a 400); a block whose signer is not known (made before a restart) is left as it is.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

KEPT = 65536


class Signers:
    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self.by_signature: OrderedDict[bytes, str] = OrderedDict()
        self.signers: set[str] = set()

    @staticmethod
    def _key(signature: str) -> bytes:
        return hashlib.blake2b(signature.encode(), digest_size=16).digest()

    def note(self, signature: object, signer: str) -> None:
        if not isinstance(signature, str) or not signature:
            return
        key = self._key(signature)
        self.by_signature[key] = signer
        self.by_signature.move_to_end(key)
        self.signers.add(signer)
        if len(self.by_signature) > self.kept:
            self.by_signature.popitem(last=False)

    def others_seen(self, signer: str) -> bool:
        """Has any other upstream signed thinking? (Else nothing can be foreign: the common case, checked first.)"""
        return bool(self.signers) and self.signers != {signer}

    def foreign(self, signature: object, signer: str) -> bool:
        if not isinstance(signature, str) or not signature:
            return False
        known = self.by_signature.get(self._key(signature))
        return known is not None and known != signer


SIGNERS = Signers()

from typing import Any

KEYWORD_RANK_MAX_TOP: int

def dfa_features(data: Any, nextmove: Any, rowbase: Any, output: Any) -> tuple[bytes, bytes]: ...
def fingerprint(
    feats: list[Any], key_hashes: dict[str, int], positions: Any, log1: Any
) -> tuple[Any, ...] | None: ...
def keyword_tokens(text: str) -> list[str]: ...
def split_tokens(text: str) -> list[str]: ...
def keyword_runs(
    toks: list[str], kinds: dict[str, Any]
) -> tuple[list[str], list[str], list[int], int, int]: ...
def keyword_scan(text: str, kinds: dict[str, Any]) -> tuple[list[str], list[str], list[int], int, int]: ...
def keyword_rank_after(
    first_keys: list[str],
    first_surfaces: list[str],
    first_runs: list[int],
    first_n_runs: int,
    keys: list[str],
    surfaces: list[str],
    runs: list[int],
    n_runs: int,
    title_words: set[str] | frozenset[str],
    entity_keys: set[str] | frozenset[str],
    top: int,
    surface: Any,
) -> list[tuple[str, float]]: ...
def keyword_rank(
    keys: list[str],
    surfaces: list[str],
    runs: list[int],
    n_runs: int,
    title_words: set[str] | frozenset[str],
    entity_keys: set[str] | frozenset[str],
    top: int,
    surface: Any,
) -> list[tuple[str, float]]: ...

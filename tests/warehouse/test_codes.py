"""RMA numbers and licence plates: unique-looking, scanner-safe, and a typo is caught."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from warehouse import codes


def test_new_codes_have_their_shape_and_a_valid_check_symbol():
    rmas = {codes.new_rma() for _ in range(500)}
    lpns = {codes.new_lpn() for _ in range(500)}
    assert len(rmas) == 500
    assert len(lpns) == 500
    for rma in rmas:
        assert len(rma) == 11
        assert rma.startswith("RMA-")
        assert codes.rma_status(rma) is True
    for lpn in lpns:
        assert len(lpn) == 11
        assert lpn.startswith("LP")
        assert codes.lpn_status(lpn) is True
        assert lpn.isalnum()


def test_a_scan_is_read_without_case_or_spaces_or_the_dash():
    rma = codes.new_rma()
    assert codes.rma_status(f"  {rma.lower()} ") is True
    assert codes.canonical_rma(rma.replace("-", "").lower()) == rma


def test_other_codes_are_not_ours():
    assert codes.rma_status("MP-100023") is None
    assert codes.lpn_status("8712345000017") is None


@given(
    body=st.text(alphabet=codes.ALPHABET, min_size=6, max_size=6).filter(
        lambda b: codes.check_symbol(b).isalnum()
    ),
    data=st.data(),
)
def test_every_single_wrong_character_is_caught(body, data):
    rma = f"RMA-{body}{codes.check_symbol(body)}"
    position = data.draw(st.integers(4, len(rma) - 1))
    replacement = data.draw(st.sampled_from(codes.ALPHABET).filter(lambda c: c != rma[position]))
    typo = rma[:position] + replacement + rma[position + 1 :]
    assert codes.rma_status(typo) is False


@given(
    body=st.text(alphabet=codes.ALPHABET, min_size=8, max_size=8).filter(
        lambda b: codes.check_symbol(b).isalnum()
    ),
    data=st.data(),
)
def test_every_swap_of_neighbours_is_caught(body, data):
    lpn = f"LP{body}{codes.check_symbol(body)}"
    position = data.draw(st.integers(2, len(lpn) - 2))
    if lpn[position] == lpn[position + 1]:
        return
    swapped = lpn[:position] + lpn[position + 1] + lpn[position] + lpn[position + 2 :]
    assert codes.lpn_status(swapped) is not True  # malformed, or not shaped like an LPN

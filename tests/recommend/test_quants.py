"""Quant quality: llama.cpp's published figures and the words a newcomer reads."""

import pytest

from localchat.recommend.quants import known_labels, quant_quality


def test_published_figures_from_llama_cpps_scoreboard():
    q4 = quant_quality("q4_k_m")  # case-insensitive
    assert (q4.label, q4.ppl_delta, q4.kld, q4.same_top_p) == ("Q4_K_M", 0.175482, 0.031273, 91.901)
    assert q4.same_top_measured
    assert quant_quality("Q8_0").same_top_p == 97.674


def test_newcomer_words_use_the_same_top_token_rate():
    assert "same next word as the 16-bit model 92% of the time" in quant_quality("Q4_K_M").words
    # not published for Q5_K_M: interpolated between Q6_K (96.0%) and Q4_K_M (91.9%), said "about"
    q5 = quant_quality("Q5_K_M")
    assert not q5.same_top_measured
    assert 91.9 < q5.same_top_p < 96.1
    assert "about" in q5.words


def test_quality_order_follows_kl_divergence():
    order = known_labels()
    assert order.index("Q8_0") < order.index("Q6_K") < order.index("Q5_K_M") < order.index("Q4_K_M")
    assert order.index("Q4_K_M") < order.index("Q3_K_M") < order.index("Q2_K") < order.index("IQ1_S")
    tops = [quant_quality(label).same_top_p for label in order if label not in ("F16", "BF16")]
    assert tops == sorted(tops, reverse=True)


@pytest.mark.parametrize(("label", "tier", "warned"), [
    ("Q8_0", 2, False), ("Q5_K_M", 2, False), ("Q4_K_M", 2, False), ("Q4_K_S", 1, False),
    ("IQ4_XS", 1, False), ("Q4_0", 1, False), ("Q3_K_M", 0, True), ("Q2_K", 0, True),
])
def test_below_four_bits_is_warned_about(label, tier, warned):
    quality = quant_quality(label)
    assert quality.tier == tier
    assert (quality.warning is not None) == warned


def test_unknown_label_ranks_last_without_crashing():
    odd = quant_quality("Q4_K_XL")
    assert not odd.known and odd.tier == 0 and odd.warning is None
    assert "no quality figures" in odd.words

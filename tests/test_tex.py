"""TeX text commands cleaned for display, over excerpts of real arXiv abstracts
(../shared/data/arxiv_daily); math is left for KaTeX exactly as written."""

from __future__ import annotations

import pytest

from paperfeed.tex import clean_tex


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (
            r"Building upon this observation, we propose \textbf{Personalize Anything}, a "
            r"training-free framework",
            "Building upon this observation, we propose Personalize Anything, a "
            "training-free framework",
        ),
        (
            r"challenges posed by audio natures, \emph{\ie}, (1) feature confusion",
            "challenges posed by audio natures, i.e., (1) feature confusion",
        ),
        (
            r"via the logarithm of the determinant (\textit{log det}) of the outer product",
            "via the logarithm of the determinant (log det) of the outer product",
        ),
        (
            r"\textit{abstention} respectively: \texttt{Neuron Adjust} and \texttt{Key Space}",
            "abstention respectively: Neuron Adjust and Key Space",
        ),
        (
            r"we introduce \textsc{AlignX}, a large-scale dataset",
            "we introduce AlignX, a large-scale dataset",
        ),
        (
            r"a novel FLFM fine-tuning framework, \underline{\textbf{Fed}}erated tuning",
            "a novel FLFM fine-tuning framework, Federated tuning",
        ),
        (r"\textbf{\emph{Nested}} emphasis", "Nested emphasis"),
        (
            r"experiments using the OpenOOD benchmark~\cite{yang2022openood}. Our approach",
            "experiments using the OpenOOD benchmark. Our approach",
        ),
        (
            r"two metrics: {\it target similarity} and {\it knowledge consistency}",
            "two metrics: target similarity and knowledge consistency",
        ),
        (
            r"Code is available at \href{https://github.com/xielaobanyy/causal-ir}{this URL}.",
            "Code is available at this URL.",
        ),
        (r"Code: \url{https://github.com/a/b}.", "Code: https://github.com/a/b."),
        # A macro from the authors' preamble: the argument, or nothing.
        (r"we propose \method{}, which outperforms", "we propose, which outperforms"),
        (r"\ours\ beats the baselines", "beats the baselines"),
        (
            r"a gain of 5.7\% \& more on S\'ersic and G\"odel data",
            "a gain of 5.7% & more on Sérsic and Gödel data",
        ),
        (r"``scale'' matters -- a lot", "“scale” matters – a lot"),
    ],
)
def test_text_commands_show_their_text(written: str, shown: str) -> None:
    assert clean_tex(written) == shown


@pytest.mark.parametrize(
    "math",
    [
        r"$2-6\times 10^{10} ~\rm M_{\odot}$",
        r"$\mathrm{100 \times faster}$",
        r"$\textbf{bold} \emph{x}$",
        r"$$\frac{dM(T)}{dT} = M_{z,0}$$",
        r"\(\mathbb{R}^2\)",
        r"\[\sum_{i=1}^T \exp(p^\top E_{x_i})\]",
    ],
)
def test_math_is_left_as_written(math: str) -> None:
    text = rf"The host galaxy \textbf{{sits}} at {math} in the sample."
    assert clean_tex(text) == f"The host galaxy sits at {math} in the sample."


def test_escaped_dollars_stay_escaped_and_plain_text_is_untouched() -> None:
    assert clean_tex(r"costs \$5 per \textbf{run}") == r"costs \$5 per run"
    plain = "A plain abstract (with parentheses), 3.5% gains; no TeX at all."
    assert clean_tex(plain) is plain
    assert clean_tex(None) == ""
    assert clean_tex("") == ""


def test_cleaned_text_is_still_escaped_on_the_page() -> None:
    # clean_tex returns text, not markup: the templates autoescape it.
    assert clean_tex(r"\textbf{<script>x</script>}") == "<script>x</script>"

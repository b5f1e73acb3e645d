import pytest

from mixlab.errors import AssumptionError
from mixlab.proofs import derivations
from mixlab.theory import theorems as thm
from mixlab.validation import foundation
from mixlab.validation.checks import TheoremCheck
from mixlab.validation.statistics import tolerance


def test_every_theorem_has_a_source_statement_and_known_kind():
    """A source is a paper or "derived in mixlab"; a derived statement names its derivation,
    which is registered with an honest label."""
    for t in thm.all_theorems().values():
        assert t.source and t.statement and t.kind in thm.KINDS
        if "derived in mixlab" in t.source:
            assert t.proof in derivations.DERIVATIONS, t.id
        if t.proof is not None:
            assert derivations.DERIVATIONS[t.proof].label in ("complete", "bookkeeping")


@pytest.mark.parametrize("name", sorted(derivations.DERIVATIONS))
def test_derivations_hold(name):
    assert derivations.DERIVATIONS[name].function() is True


def test_contraction_holds_on_its_run_and_refuses_a_non_doubly_stochastic_matrix():
    measured, params = foundation.contraction_ratio("ring", 64, 2, 200, 0)
    assert thm.CONSENSUS_CONTRACTION.check(measured, tolerance=1e-12, **params).verdict == "pass"
    with pytest.raises(
        AssumptionError, match=r"assumption 'doubly stochastic W' fails: W is not doubly stochastic"
    ):
        thm.CONSENSUS_CONTRACTION.check(measured, **{**params, "doubly_stochastic": False})


def test_a_broken_run_fails_the_check():
    """A wrong rho (the square of the true one) makes the tight contraction bound fail."""
    measured, params = foundation.contraction_squared("exponential", 64, 2, 200, 1)
    assert thm.CONSENSUS_CONTRACTION.check(measured, tolerance=1e-12, **params).verdict == "fail"


def test_equalities_are_tight_on_their_runs():
    steps, params = foundation.butterfly_steps(64, 4, 4, 0)
    assert thm.BUTTERFLY_EXACT.check(steps, tolerance=1e-9, **params).verdict == "pass"
    assert thm.BUTTERFLY_EXACT.check(steps - 1, tolerance=1e-9, **params).verdict == "fail"
    mean, params = foundation.random_group_factor(64, 8, 2000, 3)
    tol = tolerance(mean, "==")
    assert thm.RANDOM_GROUPS.check(mean.value, tolerance=tol, **params).verdict == "pass"
    assert thm.RANDOM_GROUPS.check(mean.value, tolerance=tol, **{**params, "S": 4}).verdict == "fail"


def test_pairwise_gossip_from_the_slowest_start_approaches_its_bound():
    """From the Fiedler vector Boyd et al.'s bound is within a factor of about 2.5 (it is
    2.3 at 200 ticks on a 16-ring), and the exact second moment matches."""
    est, params = foundation.pairwise_gossip("ring", 16, 200, 300, 9)
    bound = thm.PAIRWISE_GOSSIP.evaluate(**params)
    assert 0.3 * bound < est.value < bound
    est, params = foundation.gossip_second_moment("ring", 16, 100, 300, 10)
    assert abs(est.value - params["predicted"]) <= tolerance(est, "==")


def test_user_staleness_bound_value():
    assert thm.USER_STALENESS.evaluate(u=2.0, lam=4.0, n=5) == pytest.approx(
        0.5 * (1 + 1 / 2 + 1 / 3 + 1 / 4)
    )


@pytest.mark.parametrize(
    "theorem,params,match",
    [
        (thm.BUTTERFLY_EXACT, {"n": 48, "S": 4}, r"n = 48 is not a power of S = 4"),
        (thm.BUTTERFLY_EXACT, {"n": 8, "S": 1}, r"n = 8 is not a power of S = 1"),
        (thm.RANDOM_GROUPS, {"n": 10, "S": 4, "initial": 1.0}, r"S = 4 does not divide n = 10"),
        (thm.PAIRWISE_GOSSIP, {"rho": 1.0, "t": 3, "initial": 1.0}, r"lambda_2\(E W\) = 1.0 >= 1"),
        (thm.USER_STALENESS, {"u": 1, "lam": 1, "n": 1}, r"n = 1 < 2"),
        (
            thm.CONSENSUS_CONTRACTION,
            {"rho": 0.5},
            r"assumption 'doubly stochastic W' needs parameter 'doubly_stochastic'",
        ),
        (thm.USER_STALENESS, {"u": 1, "n": 5}, r"the bound needs parameters \['lam'\]"),
    ],
)
def test_assumptions_refuse(theorem, params, match):
    with pytest.raises(AssumptionError, match=match):
        theorem.evaluate(**params)


def test_theorem_check_reports_not_applicable_never_pass():
    check = TheoremCheck("bad", thm.BUTTERFLY_EXACT, lambda: (3, {"n": 48, "S": 4}))
    result = check()
    assert result.verdict == "not_applicable" and result.bound is None
    assert "not a power of S" in result.note


def test_verify_exits_nonzero_on_not_applicable(monkeypatch, capsys, tmp_path):
    import json

    from mixlab.cli import main
    from mixlab.validation import age_checks, convergence_checks, engine_checks

    check = TheoremCheck("bad", thm.BUTTERFLY_EXACT, lambda: (3, {"n": 48, "S": 4}))
    monkeypatch.setattr(foundation, "foundation_checks", lambda size: [check])
    monkeypatch.setattr(engine_checks, "engine_checks", lambda size: [])
    monkeypatch.setattr(convergence_checks, "convergence_checks", lambda size: [])
    monkeypatch.setattr(age_checks, "age_checks", lambda size: [])
    assert main(["verify", "--quick", "--json", str(tmp_path / "v.json")]) == 1
    out = json.loads((tmp_path / "v.json").read_text())
    assert out["checks"][0]["verdict"] == "not_applicable" and out["checks"][0]["bound"] is None
    assert "NOT_APPLICABLE" in capsys.readouterr().out


def test_a_theorem_of_unknown_kind_is_refused():
    from mixlab.errors import ParameterError

    with pytest.raises(ParameterError, match=r"unknown theorem kind 'approx'"):
        thm.Theorem("x", "x", "x", "x", "approx", True, thm.rho)

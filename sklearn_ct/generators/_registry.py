"""The one registry of generator names, and the resolver used by every estimator."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.base import clone
from sklearn.utils._param_validation import validate_params

from ._base import BaseGenerator
from ._ecco import ECCoGenerator
from ._eccco import ECCCoGenerator
from ._generic import GenericGenerator
from ._growing_spheres import GrowingSpheresGenerator
from ._revise import REVISEGenerator

#: Generators selectable by name, in :class:`~sklearn_ct.CTClassifier` (the gradient ones)
#: and :class:`~sklearn_ct.explainers.CounterfactualExplainer` (all). A new generator is a
#: new module of this package and one entry here.
GENERATORS = {
    "ecco": ECCoGenerator,
    "ecco_conformal": ECCCoGenerator,
    "generic": GenericGenerator,
    "growing_spheres": GrowingSpheresGenerator,
    "revise": REVISEGenerator,
}


#: Parameters of a generator named in :class:`~sklearn_ct.CTClassifier` that differ from its
#: defaults as an explainer. The reference trained with a distance weight of 0.001 for
#: every generator (spec section 2.2), while Generic's library default, used to explain,
#: is 0.1; ECCo's own default already is the training value.
TRAINING_PARAMS = {"generic": {"lambda_cost": 0.001}}


def generator_names(gradient_only=False):
    """Names of the registered generators.

    Parameters
    ----------
    gradient_only : bool, default=False
        Only the generators that search along gradients (those that can train a
        :class:`~sklearn_ct.CTClassifier`).

    Returns
    -------
    names : set of str
    """
    return {name for name, cls in GENERATORS.items()
            if cls.requires_gradients or not gradient_only}


@validate_params(
    {
        "generator": [None, str, BaseGenerator],
        "default": [str],
        "gradient_only": ["boolean"],
        "random_state": [None, "random_state"],
        "training": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def check_generator(generator, default="ecco", gradient_only=False, random_state=None,
                    training=False):
    """Resolve a generator specification to a fresh, unfitted generator.

    Parameters
    ----------
    generator : None, str or BaseGenerator
        ``None`` gives ``default``; a name of :data:`GENERATORS` gives that generator
        with default parameters; an instance is cloned.
    default : str, default="ecco"
        Name used for ``None``.
    gradient_only : bool, default=False
        Reject generators that do not search along gradients.
    random_state : int or None, default=None
        Seed given to a generator with a ``random_state`` parameter left at None, so
        that fixing the caller's ``random_state`` fixes the generator too; None leaves it.
    training : bool, default=False
        A generator given by name gets the parameters it is trained with
        (:data:`TRAINING_PARAMS`) rather than its explainer defaults.

    Returns
    -------
    generator : BaseGenerator
        An unfitted copy, whose parameters are validated.
    """
    if generator is None:
        generator = default
    if isinstance(generator, str):
        key = generator.lower()
        names = generator_names(gradient_only)
        if key not in names:
            raise ValueError(f"Unknown generator {generator!r}; expected one of "
                             f"{sorted(names)}.")
        generator = GENERATORS[key](**(TRAINING_PARAMS.get(key, {}) if training else {}))
    else:
        generator = clone(generator)
        # Checked here, once for every caller: the generator's own fit skips this check
        # when it runs inside another estimator's fit (nested validation is skipped).
        generator._validate_params()
    if gradient_only and not generator.requires_gradients:
        raise ValueError(
            f"{type(generator).__name__} does not search along gradients, so it cannot "
            "generate the counterfactuals of counterfactual training (whose adversarial "
            "term needs the nascent counterfactuals of a gradient path); use one of "
            f"{sorted(generator_names(gradient_only=True))}."
        )
    if random_state is not None and generator.get_params(deep=False).get(
            "random_state", False) is None:
        generator.set_params(random_state=random_state)
    return generator
